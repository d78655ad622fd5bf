"""What a generator needs to know about the repository, read once: the Inventory (from `service.scan`), the
detected toolchain, and the names that already exist (workflows, jobs, targets, recipes, hooks).

Everything here reads through `Workspace` (confined, size-capped, never executes anything). The toolchain is
decided by marker files at the root, first match wins, in this order (the file that decided is `evidence`):

| marker | language | package manager |
|---|---|---|
| uv.lock, poetry.lock, Pipfile(.lock), requirements.txt, pyproject.toml, setup.py | python | uv/poetry/pipenv/pip |
| pnpm-lock.yaml / yarn.lock / package-lock.json / package.json | node | pnpm / yarn / npm |
| go.mod | go | go |
| Cargo.toml | rust | cargo |
| pom.xml / build.gradle(.kts) | java | maven / gradle |
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from ..datatext import load_toml
from ..errors import InputError, OrchestratorError
from ..models import Inventory
from ..repo import Workspace

DEFAULT_PYTHON = "3.12"
DEFAULT_NODE = "20"
DEFAULT_JAVA = "21"


@dataclass(frozen=True)
class Toolchain:
    """The repository's main language and how its dependencies are installed and cached."""

    language: str = "unknown"
    package_manager: str | None = None
    version: str | None = None
    version_file: str | None = None
    lockfile: str | None = None
    install: tuple[str, ...] | None = None
    evidence: str | None = None
    notes: tuple[str, ...] = ()


@dataclass
class RepoContext:
    """A repository as generators see it: files, inventory, toolchain, existing names."""

    workspace: Workspace
    inventory: Inventory
    toolchain: Toolchain = field(default_factory=Toolchain)
    _files: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, workspace: Workspace, inventory: Inventory) -> RepoContext:
        ctx = cls(workspace=workspace, inventory=inventory)
        ctx._files = set(workspace.files())
        ctx.toolchain = detect_toolchain(ctx)
        return ctx

    # ---------------------------------------------------------------- files

    def exists(self, rel: str) -> bool:
        """Whether `rel` exists in the work tree (listed or not: an ignored file still blocks a create)."""
        if rel in self._files:
            return True
        try:
            return self.workspace.resolve(rel).exists() or (self.workspace.root / rel).is_symlink()
        except OrchestratorError:
            return True  # outside the root or unusable: treat as taken, the Writer will refuse it anyway

    def read(self, rel: str) -> str | None:
        """The exact text of `rel` (to append to), or None when it does not exist.

        Only UTF-8 with LF line ends is edited: anything else would be rewritten whole by an append, so it is
        refused with the reason rather than silently converted.
        """
        if not self.exists(rel):
            return None
        data = self.workspace.read_bytes(rel)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"'{rel}' is not UTF-8 text; it is not edited. Add the change by hand.") from None
        if "\r" in text:
            raise InputError(f"'{rel}' has CR or CRLF line ends; it is not edited, so its line ends stay as they "
                             "are. Add the change by hand.")
        if text.startswith("\ufeff"):
            raise InputError(f"'{rel}' starts with a byte order mark; it is not edited. Add the change by hand.")
        return text

    # ---------------------------------------------------------------- names that exist

    def workflow_names(self) -> dict[str, str]:
        """GitHub workflow display name -> file."""
        return {p.name: p.path for p in self.inventory.pipelines if p.system == "github-actions"}

    def github_job_ids(self) -> dict[str, str]:
        """Job id -> the workflow file that has it (the first one)."""
        jobs: dict[str, str] = {}
        for pipeline in self.inventory.pipelines:
            if pipeline.system == "github-actions":
                for job in pipeline.jobs:
                    jobs.setdefault(job.id, pipeline.path)
        return jobs

    def gitlab_jobs(self, path: str) -> set[str]:
        return {j.id for p in self.inventory.pipelines if p.system == "gitlab-ci" and p.path == path for j in p.jobs}

    def task_names(self, runner: str, path: str) -> set[str]:
        return {t.name for t in self.inventory.tasks if t.runner == runner and t.path == path}

    def first_task_file(self, runner: str) -> str | None:
        paths = sorted({t.path for t in self.inventory.tasks if t.runner == runner}, key=lambda p: (p.count("/"), p))
        return paths[0] if paths else None

    def schedule_files(self, source: str) -> list[str]:
        return sorted({s.evidence.path for s in self.inventory.schedules if s.source == source})


def unique_name(
    name: str, taken: set[str] | dict[str, str], policy: str, what: str, *, sep: str = "-"
) -> tuple[str, str | None]:
    """`name`, or with policy "rename" the first free `name-2`, `name-3`...; InputError-style refusal otherwise.

    Returns (name, note); the note tells the reviewer about a rename.
    """
    from ..errors import InputError

    if name not in taken:
        return name, None
    where = f" (in {taken[name]})" if isinstance(taken, dict) else ""
    if policy != "rename":
        raise InputError(
            f"{what} {name!r} already exists{where}; choose another name, or pass on_conflict: rename."
        )
    for n in range(2, 1000):
        candidate = f"{name}{sep}{n}"
        if candidate not in taken:
            return candidate, f"{what} {name!r} already exists{where}; this one is named {candidate!r}."
    raise InputError(f"{what} {name!r}: no free name found.")


def unique_path(ctx: RepoContext, path: str, policy: str, what: str) -> tuple[str, str | None]:
    """`path`, or a free `stem-2.ext` with policy "rename"; refused when it exists and policy is "refuse"."""
    from ..errors import InputError

    if not ctx.exists(path):
        return path, None
    if policy != "rename":
        raise InputError(f"{what} '{path}' already exists; choose another file, or pass on_conflict: rename.")
    pure = PurePosixPath(path)
    suffix = "".join(pure.suffixes[-1:])
    stem = pure.name[: len(pure.name) - len(suffix)] if suffix else pure.name
    for n in range(2, 1000):
        candidate = str(pure.with_name(f"{stem}-{n}{suffix}"))
        if not ctx.exists(candidate):
            return candidate, f"{what} '{path}' already exists; writing '{candidate}' instead."
    raise InputError(f"{what} '{path}': no free file name found.")


# ---------------------------------------------------------------- toolchain


def detect_toolchain(ctx: RepoContext) -> Toolchain:
    """The root's toolchain by marker files (see the module docstring for the order)."""
    files = ctx._files
    install_target = "install" in ctx.task_names("make", "Makefile")
    make_install = ("make", "install") if install_target else None
    python_markers = [
        ("uv.lock", "uv"), ("poetry.lock", "poetry"), ("Pipfile.lock", "pipenv"), ("Pipfile", "pipenv"),
        ("requirements.txt", "pip"), ("pyproject.toml", "pip"), ("setup.py", "pip"), ("setup.cfg", "pip"),
    ]
    for marker, manager in python_markers:
        if marker in files:
            return _python(ctx, marker, manager, make_install)
    node_markers = [("pnpm-lock.yaml", "pnpm"), ("yarn.lock", "yarn"), ("package-lock.json", "npm"),
                    ("package.json", "npm")]
    for marker, manager in node_markers:
        if marker in files:
            return _node(ctx, marker, manager, make_install)
    if "go.mod" in files:
        return Toolchain("go", "go", None, "go.mod", "go.sum" if "go.sum" in files else None,
                         make_install or ("go", "mod", "download"), "go.mod")
    if "Cargo.toml" in files:
        return Toolchain("rust", "cargo", None, None, "Cargo.lock" if "Cargo.lock" in files else None,
                         make_install or ("cargo", "fetch"), "Cargo.toml")
    for marker, manager in (("pom.xml", "maven"), ("build.gradle", "gradle"), ("build.gradle.kts", "gradle")):
        if marker in files:
            return Toolchain("java", manager, DEFAULT_JAVA, None, None, make_install, marker)
    return Toolchain(install=make_install, evidence=None)


def _python(ctx: RepoContext, marker: str, manager: str, make_install: tuple[str, ...] | None) -> Toolchain:
    files = ctx._files
    notes: list[str] = []
    version, version_file = DEFAULT_PYTHON, None
    extras: list[str] = []
    if ".python-version" in files:
        version_file = ".python-version"
    if "pyproject.toml" in files:
        try:
            data = load_toml(ctx.workspace.read_text("pyproject.toml").text)
        except (OrchestratorError, tomllib.TOMLDecodeError) as exc:
            data = {}
            notes.append(f"pyproject.toml could not be read ({exc}); Python {DEFAULT_PYTHON} assumed.")
        project = data.get("project") if isinstance(data.get("project"), dict) else {}
        requires = project.get("requires-python") if isinstance(project, dict) else None
        match = re.search(r">=\s*(3\.\d+)", requires) if isinstance(requires, str) else None
        if match:
            version = match.group(1)
        optional = project.get("optional-dependencies") if isinstance(project, dict) else None
        if isinstance(optional, dict):
            extras = [name for name in ("dev", "test", "tests") if name in optional][:1]
    lockfiles = {"uv": "uv.lock", "poetry": "poetry.lock", "pipenv": "Pipfile.lock"}
    lockfile = lockfiles.get(manager) if lockfiles.get(manager) in files else None
    if manager == "pip":
        lockfile = next((f for f in ("requirements.txt", "requirements-dev.txt") if f in files), None)
    default_install: tuple[str, ...]
    if manager == "uv":
        default_install = ("uv", "sync", "--frozen")
    elif manager == "poetry":
        default_install = ("poetry", "install", "--no-interaction")
    elif manager == "pipenv":
        default_install = ("pipenv", "sync", "--dev")
    elif "pyproject.toml" in files or "setup.py" in files:
        default_install = ("python", "-m", "pip", "install", "-e", f".[{extras[0]}]" if extras else ".")
    else:
        default_install = ("python", "-m", "pip", "install", "-r", "requirements.txt")
    return Toolchain("python", manager, version, version_file, lockfile, make_install or default_install, marker,
                     tuple(notes))


def _node(ctx: RepoContext, marker: str, manager: str, make_install: tuple[str, ...] | None) -> Toolchain:
    files = ctx._files
    version_file = next((f for f in (".nvmrc", ".node-version") if f in files), None)
    lockfile = marker if marker != "package.json" else None
    install = {
        "pnpm": ("pnpm", "install", "--frozen-lockfile"),
        "yarn": ("yarn", "install", "--frozen-lockfile"),
        "npm": ("npm", "ci") if lockfile else ("npm", "install"),
    }[manager]
    return Toolchain("node", manager, DEFAULT_NODE, version_file, lockfile, make_install or install, marker)
