#!/usr/bin/env python3
"""Fail when CHANGELOG.md has no section for the version in pyproject.toml."""

import pathlib
import re
import sys

version = re.search(r'^version = "(.*)"$', pathlib.Path("pyproject.toml").read_text(), re.M).group(1)
if f"## {version}" not in pathlib.Path("CHANGELOG.md").read_text():
    sys.exit(f"CHANGELOG.md has no section for {version}")
