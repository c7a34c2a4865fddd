"""Renders resources/icons/app.svg into the PNG sizes, app.ico (Windows) and app.icns (macOS)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
PNG_SIZES_PX = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
ICO_SIZES_PX = (16, 24, 32, 48, 64, 128, 256)  # 256 is the largest an .ico entry can be
ICNS_SIZES_PX = (16, 32, 64, 128, 256, 512, 1024)  # the sizes macOS asks an .icns for


def render(renderer: QSvgRenderer, size_px: int) -> Image.Image:
    """The SVG drawn straight at this size (sharper small icons than scaling a big bitmap)."""
    image = QImage(size_px, size_px, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return Image.open(io.BytesIO(data.data())).convert("RGBA")


def main() -> int:
    QGuiApplication(sys.argv[:1])  # QPainter on a QImage needs a (possibly offscreen) platform
    renderer = QSvgRenderer(str(ICONS / "app.svg"))
    if not renderer.isValid():
        print(f"cannot read {ICONS / 'app.svg'}", file=sys.stderr)
        return 1
    images = {size: render(renderer, size) for size in PNG_SIZES_PX}
    for size, image in images.items():
        # Pillow writes no timestamp into PNGs, so unchanged icons give byte-identical files.
        image.save(ICONS / f"app-{size}.png", optimize=True)
    largest_ico = images[max(ICO_SIZES_PX)]
    largest_ico.save(ICONS / "app.ico", sizes=[(s, s) for s in ICO_SIZES_PX],
                     append_images=[images[s] for s in ICO_SIZES_PX])
    images[max(ICNS_SIZES_PX)].save(ICONS / "app.icns",
                                    append_images=[images[s] for s in ICNS_SIZES_PX])
    written = [f"app-{s}.png" for s in PNG_SIZES_PX] + ["app.ico", "app.icns"]
    print(f"wrote {len(written)} files to {ICONS}: {', '.join(written)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
