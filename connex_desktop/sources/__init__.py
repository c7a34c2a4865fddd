"""Ordering systems: one module per source, behind the contract in base.py."""
