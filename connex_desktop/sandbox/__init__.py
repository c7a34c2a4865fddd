"""A local QuickBooks Online sandbox server and the demo store."""
