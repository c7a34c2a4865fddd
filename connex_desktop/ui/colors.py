"""Text colours kept readable (4.5:1, WCAG AA) on the palette in use, light or dark."""

from __future__ import annotations

from PySide6.QtGui import QColor, QGuiApplication, QPalette

MINIMUM_CONTRAST = 4.5
# Failures and errors, warnings, and a test that passed: as designed for a light window.
ERROR_COLOR = "#b3261e"
WARNING_COLOR = "#8a5a00"
OK_COLOR = "#1b6e20"
# How far a hint leans from the text colour toward the background before it is checked.
HINT_FADE = 0.35
_STEP = 0.05


def _channel(value: float) -> float:
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4


def luminance(color: QColor) -> float:
    """WCAG's relative luminance of an opaque colour."""
    return (0.2126 * _channel(color.redF()) + 0.7152 * _channel(color.greenF())
            + 0.0722 * _channel(color.blueF()))


def mix(color: QColor, other: QColor, share_of_other: float) -> QColor:
    """`color` moved `share_of_other` of the way to `other` (opaque)."""
    def channel(a: float, b: float) -> float:
        return a + (b - a) * share_of_other
    return QColor.fromRgbF(channel(color.redF(), other.redF()),
                           channel(color.greenF(), other.greenF()),
                           channel(color.blueF(), other.blueF()))


def contrast(foreground: QColor, background: QColor) -> float:
    """The contrast ratio (1 to 21) of text drawn in `foreground`, alpha and all, on
    `background`."""
    shown = mix(background, foreground, foreground.alphaF())
    lighter, darker = sorted((luminance(shown), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def readable(color: QColor, *backgrounds: QColor) -> QColor:
    """`color`, or the nearest shade of it (toward black or white) that reads at 4.5:1 on every
    background."""
    dark_backgrounds = sum(luminance(background) < 0.18 for background in backgrounds)
    target = QColor("white") if dark_backgrounds > len(backgrounds) / 2 else QColor("black")
    share = 0.0
    shade = QColor(color)
    while min(contrast(shade, background) for background in backgrounds) < MINIMUM_CONTRAST \
            and share < 1:
        share = min(1.0, share + _STEP)
        shade = mix(color, target, share)
    return shade


def _backgrounds(palette: QPalette) -> tuple[QColor, QColor]:
    """The window's and the inputs' backgrounds: labels sit on both."""
    return palette.color(QPalette.ColorRole.Window), palette.color(QPalette.ColorRole.Base)


def on_palette(color: str, palette: QPalette | None = None) -> QColor:
    """A designed colour as it must be drawn on `palette` (the application's by default)."""
    palette = palette or QGuiApplication.palette()
    return readable(QColor(color), *_backgrounds(palette))


def hint_color(palette: QPalette | None = None) -> QColor:
    """Quieter than the text, still readable: Qt's placeholder grey reads at 3.4:1 on Fusion."""
    palette = palette or QGuiApplication.palette()
    window, base = _backgrounds(palette)
    faded = mix(palette.color(QPalette.ColorRole.WindowText), window, HINT_FADE)
    return readable(faded, window, base)


def with_readable_placeholders(palette: QPalette) -> QPalette:
    """The palette with the inputs' placeholder text (half-transparent text in Qt's own
    palettes, 3.4 to 4.1:1) as readable as a hint."""
    readable_palette = QPalette(palette)
    readable_palette.setColor(QPalette.ColorRole.PlaceholderText, hint_color(palette))
    return readable_palette


def style(color: QColor) -> str:
    return f"color: {color.name()};"


def hint_style() -> str:
    return style(hint_color())


def error_style() -> str:
    return style(on_palette(ERROR_COLOR))


def ok_style() -> str:
    return style(on_palette(OK_COLOR))
