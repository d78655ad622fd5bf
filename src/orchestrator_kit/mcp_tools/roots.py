"""The folders an MCP client may reach, and the confinement of every path a tool receives.

A server is started with one or more roots (default: the working directory). A tool's `repository` argument
names a folder inside one of them: a relative value is taken from the first root, an absolute one must lie
inside some root. Paths of files inside a repository go through `Workspace.resolve`. The rule is the one
`Workspace` applies (realpath, then relative_to the root), plus three refusals made before touching the disk:
values starting with `-` (they could be read as an option by a program), `..` components, and NUL bytes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ..errors import ConfinementError, InputError


@dataclass(frozen=True)
class Root:
    """A configured root: `name` (its folder name, made unique) and its real `path`."""

    name: str
    path: Path


class Roots:
    """The configured roots, in the order given; the first is the default for relative paths."""

    def __init__(self, paths: Sequence[str | os.PathLike[str]]) -> None:
        if not paths:
            paths = [os.getcwd()]
        roots: list[Root] = []
        names: set[str] = set()
        for given in paths:
            text = os.fspath(given)
            if "\x00" in text:
                raise InputError("A root contains a NUL character.")
            real = Path(os.path.realpath(text))
            if not real.is_dir():
                raise InputError(f"Root '{text}' is not an existing directory.")
            if any(r.path == real for r in roots):
                continue  # the same folder given twice
            base = real.name or "root"
            name, n = base, 2
            while name in names:
                name, n = f"{base}-{n}", n + 1
            names.add(name)
            roots.append(Root(name=name, path=real))
        self.roots: tuple[Root, ...] = tuple(roots)

    @property
    def default(self) -> Root:
        return self.roots[0]

    def by_name(self, name: str) -> Root:
        for root in self.roots:
            if root.name == name:
                return root
        known = ", ".join(r.name for r in self.roots)
        raise InputError(f"Root '{name}' is not a configured root (known: {known}).")

    def repository(self, value: str) -> tuple[Root, Path]:
        """The root holding `value` and the real path of the folder it names, which must exist.

        Raises ConfinementError for a path outside every root, and InputError for one that is not (or is
        no longer) a directory.
        """
        check_argument(value, "Repository")
        candidate = Path(value) if os.path.isabs(value) else self.default.path / value
        real = Path(os.path.realpath(candidate))
        root = self._containing(real)
        if root is None:
            allowed = ", ".join(str(r.path) for r in self.roots)
            raise ConfinementError(f"Repository '{value}' is outside the configured roots ({allowed}).")
        from ..repo import is_git_dir_name  # with the first call: a server starts without the repository layer

        if any(is_git_dir_name(part) for part in real.relative_to(root.path).parts):
            raise ConfinementError(f"Repository '{value}' is inside a .git folder, which no tool reads.")
        if not real.is_dir():
            if not root.path.is_dir():
                raise InputError(f"Repository '{value}': the root '{root.path}' no longer exists.")
            raise InputError(f"Repository '{value}' is not an existing directory inside root '{root.name}'.")
        return root, real

    def _containing(self, real: Path) -> Root | None:
        for root in self.roots:
            if real == root.path or real.is_relative_to(root.path):
                return root
        return None


def check_argument(value: str, what: str) -> None:
    """Refuse, before any file-system call, the argument values no tool accepts as a path."""
    if not isinstance(value, str) or value == "":
        raise ConfinementError(f"{what} must be a non-empty path.")
    if "\x00" in value:
        raise ConfinementError(f"{what} '{value!r}' contains a NUL character.")
    if value.startswith("-"):
        raise ConfinementError(f"{what} '{value}' starts with '-' and could be read as an option; refused.")
    if ".." in value.replace("\\", "/").split("/"):
        raise ConfinementError(f"{what} '{value}' contains a '..' component; refused.")


# ---------------------------------------------------------------- the list_roots tool's result


class RootInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Short name, used in resource URIs.")
    path: str = Field(description="Absolute path; pass it (or a folder inside it) as `repository`.")
    default: bool = Field(description="Relative `repository` values are taken from this root.")
    exists: bool
    inventory_resource: str = Field(description="URI of the resource holding this root's last scan as JSON.")


class RootList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roots: list[RootInfo]
    read_only: bool = Field(description="True when the server was started with --read-only: no tool writes.")


def list_roots(roots: Roots, *, read_only: bool) -> RootList:
    return RootList(
        roots=[
            RootInfo(
                name=r.name,
                path=str(r.path),
                default=index == 0,
                exists=r.path.is_dir(),
                inventory_resource=f"scan://{r.name}/inventory",
            )
            for index, r in enumerate(roots.roots)
        ],
        read_only=read_only,
    )
