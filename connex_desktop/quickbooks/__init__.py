"""QuickBooks Online adapter on python-quickbooks: auth, client, reference cache, writer."""
