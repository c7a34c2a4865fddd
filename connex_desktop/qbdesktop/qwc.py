"""The .qwc file the user adds to the QuickBooks Web Connector, one per connection."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass

QWC_NAMESPACE = uuid.UUID("0f6f4d4e-2b7a-4a53-9c55-6d2f0f1e8c31")   # ours: stable GUIDs
QB_TYPE = "QBFS"                   # QuickBooks Financial Software (not Point of Sale)
AUTH_FLAGS_ALL_EDITIONS = "0xF"    # Simple Start, Pro, Premier, Enterprise


def connection_guid(folder_id: str, connection_id: int, what: str) -> str:
    """A GUID that stays the same for one connection of one data folder, so the Web Connector
    (and QuickBooks' authorisation of it) keeps recognising the app: `{8-4-4-4-12}`."""
    value = uuid.uuid5(QWC_NAMESPACE, f"{folder_id}/connection-{connection_id}/{what}")
    return "{" + str(value).upper() + "}"


@dataclass(frozen=True)
class QwcSettings:
    app_name: str                  # what the Web Connector lists, e.g. "Connex Desktop - Shop"
    url: str                       # the SOAP endpoint, http://127.0.0.1:<port>/qbwc
    user_name: str
    owner_id: str
    file_id: str
    run_every_minutes: int = 0     # 0: the user presses Update Selected
    description: str = "Books online-store orders into QuickBooks Desktop."


def qwc_settings(app_name: str, url: str, user_name: str, folder_id: str, connection_id: int,
                 run_every_minutes: int = 0) -> QwcSettings:
    return QwcSettings(app_name, url, user_name,
                       connection_guid(folder_id, connection_id, "owner"),
                       connection_guid(folder_id, connection_id, "file"), run_every_minutes)


def qwc_file(settings: QwcSettings) -> str:
    """The .qwc XML. The password is not in it: the user types it into the Web Connector."""
    root = ET.Element("QBWCXML")
    for tag, value in (("AppName", settings.app_name), ("AppID", ""), ("AppURL", settings.url),
                       ("AppDescription", settings.description),
                       ("AppSupport", settings.url.rsplit("/", 1)[0] + "/"),
                       ("UserName", settings.user_name), ("OwnerID", settings.owner_id),
                       ("FileID", settings.file_id), ("QBType", QB_TYPE)):
        ET.SubElement(root, tag).text = value
    if settings.run_every_minutes:
        scheduler = ET.SubElement(root, "Scheduler")
        ET.SubElement(scheduler, "RunEveryNMinutes").text = str(settings.run_every_minutes)
    ET.SubElement(root, "IsReadOnly").text = "false"
    ET.SubElement(root, "AuthFlags").text = AUTH_FLAGS_ALL_EDITIONS
    ET.indent(root)
    return '<?xml version="1.0"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
