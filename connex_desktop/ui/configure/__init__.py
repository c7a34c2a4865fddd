"""The Configure dialog: one module per tab (store, QuickBooks, transactions, mapping, schedule)."""

from connex_desktop.ui.configure.dialog import ConfigureDialog

__all__ = ["ConfigureDialog"]
