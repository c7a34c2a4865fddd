"""The sync engine: reconcile, plan windows of orders, write them through a writer, record."""
