"""Acme Shop: a tiny sample application."""

__version__ = "1.3.0"
