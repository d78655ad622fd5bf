#!/usr/bin/env python3
"""Set the version in pyproject.toml and date the top section of CHANGELOG.md."""

import datetime
import pathlib
import re
import sys


def main(version: str) -> None:
    pyproject = pathlib.Path("pyproject.toml")
    text = re.sub(r'^version = ".*"$', f'version = "{version}"', pyproject.read_text(), flags=re.M)
    pyproject.write_text(text)
    changelog = pathlib.Path("CHANGELOG.md")
    today = datetime.date.today().isoformat()
    changelog.write_text(changelog.read_text().replace("## Unreleased", f"## {version} ({today})", 1))


if __name__ == "__main__":
    main(sys.argv[1])
