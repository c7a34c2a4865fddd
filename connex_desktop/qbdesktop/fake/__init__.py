"""A local QuickBooks Desktop for tests and the demo: a company file that answers qbXML."""
