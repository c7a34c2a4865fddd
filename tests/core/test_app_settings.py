"""The app's own settings are declared once, each with its own key, type and default."""

from __future__ import annotations

from connex_desktop.core import app_settings
from connex_desktop.core.app_settings import AppSetting

DECLARED = [value for value in vars(app_settings).values() if isinstance(value, AppSetting)]


def test_each_setting_has_its_own_key_and_says_what_it_is():
    keys = [setting.key for setting in DECLARED]
    assert len(keys) == len(set(keys)) >= 8
    assert all(setting.meaning.endswith(".") for setting in DECLARED)


def test_each_setting_reads_back_what_was_written():
    for setting in DECLARED:
        assert setting.parse(setting.text(setting.default)) == setting.default



def test_the_window_place_reads_back_and_a_garbled_one_is_forgotten():
    place = app_settings.WindowPlace(-1280, 40, 1200, 760, maximized=True)
    setting = app_settings.WINDOW_PLACE
    assert setting.parse(setting.text(place)) == place
    assert setting.parse('{"x": 1}') is None
    assert setting.parse("not json") is None
