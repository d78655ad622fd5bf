"""Test fixtures and copies of other projects: files that describe someone else's automation, not this project's.

A file is a *fixture* when one of its folders (compared case-insensitively) is a test-data folder (`testdata`,
`test-data`, `test_data`, `fixtures`, `fixture`, `__fixtures__`, `__snapshots__`, `golden`, `goldens`), or is a
`manifests`/`charts`/`configs` folder below a test folder (`test`, `tests`, `testing`, `e2e`, `integration`, ...).
A file is in a *foreign tree* when a folder above it (never the root) holds both a licence file and a build
file of its own (`Makefile`, `package.json`, `go.mod`, `Cargo.toml`, `pyproject.toml`, `setup.py`,
`CMakeLists.txt`, `configure`, `build.gradle`, `pom.xml`) and sits under a folder whose name says "code of
others" (`external`, `extern`, `deps`, `3rdparty`, `thirdparty`, `contrib`, `vendored`, `bundled`). The usual
dependency folders (`vendor/`, `third_party/`, `node_modules/`, ...) are never read at all (see `base.VENDORED`).

The scan reads these files like any other (so that it can count what it leaves out), then moves what they gave
(pipelines, tasks, schedules, infrastructure, procedures, diagnostics) out of the inventory into a count,
`Inventory.skipped_fixtures`, unless the caller asks to include them.
"""

from __future__ import annotations

from collections import Counter

from ..models import SkippedFixtures
from .base import Findings

FIXTURE_DIRS = frozenset(
    {"testdata", "test-data", "test_data", "fixtures", "fixture", "__fixtures__", "__snapshots__", "golden",
     "goldens", "test-fixtures", "test_fixtures"}
)
TEST_DIRS = frozenset({"test", "tests", "testing", "e2e", "integration", "integration-tests", "integration_tests"})
TEST_DATA_CHILDREN = frozenset({"manifests", "charts", "configs", "data", "samples", "cases", "resources"})
FOREIGN_PARENTS = frozenset(
    {"external", "extern", "externals", "deps", "3rdparty", "thirdparty", "contrib", "vendored", "bundled"}
)
LICENCE_STEMS = ("license", "licence", "copying")
BUILD_FILES = frozenset(
    {"Makefile", "makefile", "GNUmakefile", "package.json", "go.mod", "Cargo.toml", "pyproject.toml", "setup.py",
     "CMakeLists.txt", "configure", "build.gradle", "build.gradle.kts", "pom.xml", "meson.build"}
)
EXAMPLE_LIMIT = 10


def is_fixture_path(path: str) -> bool:
    """Whether a file lies in a test-fixture folder (see the module doc)."""
    parts = path.lower().split("/")[:-1]
    for index, part in enumerate(parts):
        if part in FIXTURE_DIRS:
            return True
        if part in TEST_DATA_CHILDREN and index > 0 and parts[index - 1] in TEST_DIRS:
            return True
    return False


def foreign_roots(files: list[str]) -> list[str]:
    """Folders that hold another project: a licence and a build file of their own, below an `external/`-like folder."""
    licensed: set[str] = set()
    built: set[str] = set()
    for path in files:
        slash = path.rfind("/")
        if slash <= 0:
            continue  # the root's own licence says nothing about foreign code
        folder, base = path[:slash], path[slash + 1 :]
        if base in BUILD_FILES:
            built.add(folder)
        elif base.lower().startswith(LICENCE_STEMS):
            licensed.add(folder)
    roots = []
    for folder in sorted(licensed & built):
        parts = folder.lower().split("/")
        if any(part in FOREIGN_PARENTS for part in parts[:-1]):
            roots.append(folder)
    return roots


class FixtureFilter:
    """Decides per path (folders cached) whether a file is a fixture or foreign code.

    A folder is one when its parent is, or by its own name (a test-data name, or a test-data child name below a
    test folder) or because it is a foreign root: the same as testing every part of the path (`is_fixture_path`)
    and every foreign root as a prefix, with each folder's own test made once, on top of its parent's answer (a
    listing of 20,000 files in 12,000 folders asked `is_fixture_path` of each whole path)."""

    def __init__(self, files: list[str]) -> None:
        self.foreign = tuple(f"{root}/" for root in foreign_roots(files))
        self._foreign_roots = frozenset(self.foreign)
        self._by_folder: dict[str, bool] = {}

    def __call__(self, path: str) -> bool:
        slash = path.rfind("/")
        if slash <= 0:
            return False
        folder = path[:slash]
        known = self._by_folder.get(folder)
        if known is None:
            known = self._decide(folder)
        return known

    def _decide(self, folder: str) -> bool:
        """Decide `folder` and the undecided folders above it, from the nearest decided one down."""
        by_folder = self._by_folder
        undecided = []
        above = folder
        while above and above not in by_folder:
            undecided.append(above)
            cut = above.rfind("/")
            above = above[:cut] if cut > 0 else ""
        known = by_folder[above] if above else False
        for current in reversed(undecided):
            known = known or self._by_own_name(current)
            by_folder[current] = known
        return known

    def _by_own_name(self, folder: str) -> bool:
        """Whether `folder` is a fixture or foreign root by itself (its parent aside)."""
        cut = folder.rfind("/")
        name = folder[cut + 1 :].lower()
        if name in FIXTURE_DIRS:
            return True
        if name in TEST_DATA_CHILDREN and cut > 0 and folder[folder.rfind("/", 0, cut) + 1 : cut].lower() in TEST_DIRS:
            return True
        return bool(self._foreign_roots) and folder + "/" in self._foreign_roots


def split_fixtures(findings: Findings, skip: FixtureFilter, *, include: bool = False) -> SkippedFixtures:
    """Count every finding whose evidence lies in a fixture or foreign tree, and move it out of `findings` unless
    `include`."""
    by_kind: Counter[str] = Counter()
    files: set[str] = set()
    folders: Counter[str] = Counter()
    # A repository's fixtures repeat a few folders (hashicorp/terraform: 1,800 fixture items in 1,600 folders of one
    # `testdata` tree): the folder that makes a path a fixture is worked out once per folder of this call.
    fixture_folder_of: dict[str, str] = {}
    for kind in ("pipelines", "tasks", "schedules", "infrastructure", "procedures"):
        items = getattr(findings, kind)
        kept = []
        skipped = 0
        for item in items:
            path = item.evidence.path
            if skip(path):
                skipped += 1
                files.add(path)
                folder = path[: path.rfind("/") + 1]  # with its slash: "" for the root
                fixture_folder = fixture_folder_of.get(folder)
                if fixture_folder is None:
                    fixture_folder = fixture_folder_of[folder] = _fixture_folder(path)
                folders[fixture_folder] += 1
                if include:
                    kept.append(item)
            else:
                kept.append(item)
        if skipped:
            by_kind[kind] = skipped
        setattr(findings, kind, kept)
    kept_diagnostics = []
    skipped = 0
    for diagnostic in findings.diagnostics:
        if skip(diagnostic.path):
            skipped += 1
            files.add(diagnostic.path)
            if include:
                kept_diagnostics.append(diagnostic)
        else:
            kept_diagnostics.append(diagnostic)
    if skipped:
        by_kind["diagnostics"] = skipped
    findings.diagnostics = kept_diagnostics
    items = sum(count for kind, count in by_kind.items() if kind != "diagnostics")
    return SkippedFixtures(
        included=include,
        items=items,
        files=len(files),
        by_kind=dict(sorted(by_kind.items())),
        folders=[folder for folder, _ in folders.most_common(EXAMPLE_LIMIT)],
    )


def _fixture_folder(path: str) -> str:
    """The folder that makes `path` a fixture, e.g. `pkg/cmd/testdata` for `pkg/cmd/testdata/a/b.yaml`."""
    parts = path.split("/")[:-1]
    lowered = path.lower().split("/")[:-1]  # one lower-casing, not one per part (same parts: `/` has no case)
    for index, lower in enumerate(lowered):
        if lower in FIXTURE_DIRS or (lower in TEST_DATA_CHILDREN and index > 0 and lowered[index - 1] in TEST_DIRS):
            return "/".join(parts[: index + 1])
    return "/".join(parts)

