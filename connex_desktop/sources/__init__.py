"""Ordering systems (and the demo store): one module per source, behind the contract in base.py."""
