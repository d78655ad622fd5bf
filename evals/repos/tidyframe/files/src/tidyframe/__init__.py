"""tidyframe: small helpers for tidy tabular data."""

from .core import melt, pivot

__all__ = ["melt", "pivot"]
