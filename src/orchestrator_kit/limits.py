"""The default and maximum sizes every face (CLI, MCP, library) shares.

Plain constants in a module that imports nothing, so the CLI can build its option help without importing the
scanner, pydantic or git plumbing (`orchestrator-kit --help` stays close to a bare interpreter start).
"""

from __future__ import annotations

DEFAULT_MAX_FILE_BYTES = 2 * 1024 * 1024  # a file larger than this is skipped, not read
DEFAULT_MAX_FILES = 500_000
DEFAULT_MAX_COMMITS = 5000  # the newest commits read by default, on every face
DEFAULT_TOP = 10  # rows per ranked list (files, hotspots, pairs, authors)
MAX_COMMITS_LIMIT = 10_000_000
MAX_TOP = 1000
MAX_SINCE_CHARS = 100
MAX_PATHS = 100
