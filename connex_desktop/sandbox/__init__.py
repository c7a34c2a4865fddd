"""A local QuickBooks Online sandbox server: the company it keeps, its API and sign-in."""
