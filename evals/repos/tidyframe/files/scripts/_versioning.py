"""Version helpers shared by the release scripts (imported, never run)."""

import re

VERSION_LINE = re.compile(r'^version = "(.*)"$', re.M)


def current_version(pyproject_text: str) -> str:
    match = VERSION_LINE.search(pyproject_text)
    if match is None:
        raise ValueError("pyproject.toml has no version line")
    return match.group(1)
