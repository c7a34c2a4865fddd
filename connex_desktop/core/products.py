"""Which QuickBooks a connection books into: what it calls things depends on it."""

from __future__ import annotations

import enum


class QuickBooksProduct(enum.StrEnum):
    ONLINE = "online"          # QuickBooks Online, over its REST API
    DESKTOP = "desktop"        # QuickBooks Desktop, over qbXML
