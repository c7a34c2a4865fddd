"""QuickBooks Desktop: qbXML messages, the Web Connector service and a local fake company file."""
