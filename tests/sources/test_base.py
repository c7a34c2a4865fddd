"""What every store declares alike: its time zone setting, and settings split out of another."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest

from connex_desktop.app import SOURCE_KINDS
from connex_desktop.sources.base import TIMEZONE_SETTING, missing_settings
from connex_desktop.sources.bigcommerce import BigCommerceSource
from connex_desktop.sources.shopify import ShopifySource


@pytest.fixture
def computer_in_new_york(monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("kind", [ShopifySource, BigCommerceSource])
def test_a_blank_time_zone_is_this_computers_with_its_summer_time(kind, computer_in_new_york):
    zone = kind({"store_url": "https://shop.example.com", "store_hash": "abc123"}, {}).timezone
    winter, summer = datetime(2026, 1, 15, 12, tzinfo=UTC), datetime(2026, 7, 15, 12, tzinfo=UTC)
    assert winter.astimezone(zone).utcoffset() == timedelta(hours=-5)
    assert summer.astimezone(zone).utcoffset() == timedelta(hours=-4)
    # An order placed at 11:30 pm on a summer evening in New York is booked on that day.
    assert datetime(2026, 7, 1, 3, 30, tzinfo=UTC).astimezone(zone).date() == date(2026, 6, 30)


def test_stores_with_a_time_zone_declare_it_alike():
    declared = {kind.kind: field for kind in SOURCE_KINDS.values()
                for field in kind.settings_fields if field.name == "timezone"}
    assert set(declared) == {"shopify", "bigcommerce", "lightspeed_r", "lightspeed_x", "linnworks",
                             "skuvault"}
    assert all(field == TIMEZONE_SETTING for field in declared.values())
    assert TIMEZONE_SETTING.default == "" and "this computer's" in TIMEZONE_SETTING.help


def test_required_settings_are_named_by_key_and_an_api_path_supplies_the_store_hash():
    assert [f.name for f in missing_settings(ShopifySource, {}, lambda _name: False)] == [
        "store_url", "access_token"]
    pasted = {"api_url": "https://api.bigcommerce.com/stores/abc123/v3/"}
    assert missing_settings(BigCommerceSource, pasted, lambda name: True) == []
    assert [f.cli_option for f in missing_settings(BigCommerceSource, {}, lambda _n: False)] == [
        "--set store_hash=VALUE", "--secret access_token"]
