"""Renderers of an Inventory for people (rich tables, Markdown with Mermaid) and machines (JSON)."""

from .markdown import render_markdown
from .table import render_tables

__all__ = ["render_markdown", "render_tables"]
