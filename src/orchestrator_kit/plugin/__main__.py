"""`python -m orchestrator_kit.plugin [--check] [ROOT]`: regenerate (or check) the repository's plugin files."""

from __future__ import annotations

import sys
from pathlib import Path

from .files import stale_files, write_plugin_files

DEFAULT_ROOT = Path(__file__).resolve().parents[3]


def main(argv: list[str]) -> int:
    check = "--check" in argv
    paths = [a for a in argv if a != "--check"]
    root = Path(paths[0]) if paths else DEFAULT_ROOT
    if check:
        stale = stale_files(root)
        for rel in stale:
            print(f"stale: {rel} (run: python -m orchestrator_kit.plugin)", file=sys.stderr)
        return 1 if stale else 0
    for rel in write_plugin_files(root):
        print(f"wrote {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
