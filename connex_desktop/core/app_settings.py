"""The app's own settings (a connection's are elsewhere), each declared once: key, type, default."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class AppSetting(Generic[T]):
    """One setting, stored as text under `key`; `default` when it was never stored."""

    key: str
    default: T
    meaning: str
    parse: Callable[[str], T]
    text: Callable[[T], str]


def _flag(key: str, meaning: str) -> AppSetting[bool]:
    return AppSetting(key, False, meaning, parse=lambda text: text == "1",
                      text=lambda on: "1" if on else "0")


def _text(key: str, meaning: str) -> AppSetting[str]:
    return AppSetting(key, "", meaning, parse=str, text=str)


@dataclass(frozen=True)
class WindowPlace:
    """Where the main window was and how big, in screen pixels, to open it there again."""

    x: int
    y: int
    width: int
    height: int
    maximized: bool = False


def _read_window_place(text: str) -> WindowPlace | None:
    # A value written by another version or by hand is forgotten, not fatal.
    try:
        return WindowPlace(**json.loads(text))
    except (ValueError, TypeError):
        return None


def _why_by_connection(key: str, meaning: str) -> AppSetting[dict[int, str]]:
    return AppSetting(key, {}, meaning,
                      parse=lambda text: {int(cid): why for cid, why in json.loads(text).items()},
                      text=json.dumps)


AUTO_SYNC_PAUSED = _flag("auto_sync_paused", "Scheduled syncs are paused (the tray's Pause).")
NOTIFY_WHEN_ORDERS_BOOKED = _flag(
    "notify_when_orders_booked", "A scheduled sync that booked orders says so in a notification.")
TRAY_HINT_SHOWN = _flag(
    "tray_hint_shown", "The hint that closing the window keeps the app in the tray was shown.")
TRAY_NEEDS_ATTENTION = _why_by_connection(
    "tray_needs_attention",
    "The connections that need attention and why: a restart keeps the tray icon red.")
WINDOW_PLACE: AppSetting[WindowPlace | None] = AppSetting(
    "window_place", None, "The main window's place and size when it was last closed.",
    parse=_read_window_place,
    text=lambda place: json.dumps(dataclasses.asdict(place) if place else None))
DEMO_COMPANY = _text(
    "demo_company", "The kind of company the demo last used: <kind>[+multicurrency].")
CONNECT_SERVICE_URL = _text(
    "connect_service_url",
    "The connect service chosen for this data folder (qb connect --service), over the build's.")
KEYRING_FOLDER_ID = _text(
    "keyring_folder_id", "The data folder's own id, which every keyring key of the folder "
    "starts with.")
KEYRING_OLD_KEYS_MOVED = _flag(
    "keyring_old_keys_moved", "The secrets saved before there was a folder id (under bare "
    "connection keys) were moved under it.")
