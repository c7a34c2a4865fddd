"""resources/ is found in the source tree, the frozen bundle and an installed wheel's data files."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from connex_desktop import __version__, resources

SOURCE_RESOURCES = Path(__file__).resolve().parent.parent / "resources"


@pytest.fixture(autouse=True)
def _fresh_lookup():
    resources.resources_dir.cache_clear()
    yield
    resources.resources_dir.cache_clear()


def _copy_icons(destination: Path) -> Path:
    shutil.copytree(SOURCE_RESOURCES / "icons", destination / "icons")
    return destination


def test_source_tree_is_found_from_a_checkout():
    assert resources.resources_dir() == SOURCE_RESOURCES
    assert resources.resource_path("icons", "tray-idle.svg").read_text().startswith("<svg")


def test_frozen_bundle_wins_over_the_source_tree(tmp_path, monkeypatch):
    bundle = tmp_path / "bundle"
    _copy_icons(bundle / "resources")
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    assert resources.resources_dir() == bundle / "resources"


def test_installed_wheel_data_files_are_found_through_the_record(tmp_path, monkeypatch):
    """A wheel puts resources/ under <prefix>/share/connex-desktop; RECORD says where it went."""
    prefix = tmp_path / "prefix"
    site = prefix / "lib" / "site-packages"
    installed = _copy_icons(prefix / "share" / "connex-desktop" / "resources")
    dist_info = site / f"connex_desktop-{__version__}.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: connex-desktop\nVersion: {__version__}\n")
    record = [f"../../share/connex-desktop/resources/icons/{icon.name},,"
              for icon in sorted((installed / "icons").iterdir())]
    (dist_info / "RECORD").write_text("\n".join(record) + "\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(resources, "_source_tree", lambda: tmp_path / "no-checkout" / "resources")
    assert resources.resources_dir() == installed.resolve()
    assert resources.resource_path("icons", "app.svg").is_file()


def test_nothing_found_names_every_place_looked(tmp_path, monkeypatch):
    monkeypatch.setattr(resources, "_source_tree", lambda: tmp_path / "checkout" / "resources")
    monkeypatch.setattr(resources, "_installed", lambda: None)
    with pytest.raises(resources.ResourcesNotFound) as error:
        resources.resources_dir()
    assert str(tmp_path / "checkout" / "resources") in str(error.value)
    assert "reinstall" in str(error.value)


def test_a_missing_file_is_a_plain_error():
    with pytest.raises(resources.ResourcesNotFound, match=r"no-such-icon\.svg"):
        resources.resource_path("icons", "no-such-icon.svg")


@pytest.mark.parametrize("size_px", [16, 24, 32, 48, 64, 128, 256, 512, 1024])
def test_app_icon_png_sizes_are_what_their_names_say(size_px):
    header = (SOURCE_RESOURCES / "icons" / f"app-{size_px}.png").read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(header[16:20], "big") == size_px  # IHDR width
    assert int.from_bytes(header[20:24], "big") == size_px  # IHDR height


def test_windows_icon_holds_every_size_up_to_256():
    data = (SOURCE_RESOURCES / "icons" / "app.ico").read_bytes()
    assert data[:4] == b"\x00\x00\x01\x00"  # ICONDIR: reserved 0, type 1 (icon)
    count = int.from_bytes(data[4:6], "little")
    # Each 16-byte directory entry starts with width and height; 0 stands for 256.
    sizes = {data[6 + 16 * i] or 256 for i in range(count)}
    assert sizes == {16, 24, 32, 48, 64, 128, 256}


def test_mac_icon_holds_the_retina_sizes():
    data = (SOURCE_RESOURCES / "icons" / "app.icns").read_bytes()
    assert data[:4] == b"icns" and int.from_bytes(data[4:8], "big") == len(data)
    kinds, offset = set(), 8
    while offset < len(data):
        kinds.add(data[offset:offset + 4].decode("ascii"))
        offset += int.from_bytes(data[offset + 4:offset + 8], "big")
    assert {"ic07", "ic08", "ic09", "ic10"} <= kinds  # 128, 256, 512 and 512@2x (1024)
