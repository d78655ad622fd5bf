#!/usr/bin/env python3
"""Fail when CHANGELOG.md has no section for the version in pyproject.toml."""

import pathlib
import sys

from _versioning import current_version

version = current_version(pathlib.Path("pyproject.toml").read_text())
if f"## {version}" not in pathlib.Path("CHANGELOG.md").read_text():
    sys.exit(f"CHANGELOG.md has no section for {version}")
