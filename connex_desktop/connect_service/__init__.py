"""The connect service: Intuit sign-in for the desktop app, holding the product's client secret."""
