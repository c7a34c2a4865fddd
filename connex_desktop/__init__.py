"""connex_desktop: books store orders into QuickBooks, exactly once."""

__version__ = "0.1.0"
APP_NAME = "connex-desktop"
# What a person reads: window titles, menus, notifications.
APP_DISPLAY_NAME = "Connex Desktop"
