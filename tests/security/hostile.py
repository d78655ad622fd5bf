"""Hostile repositories for the security battery: every trick is planted for real, with a payload that leaves a
marker file when it runs, so a test can assert that nothing ran (and a control test proves each payload is live)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from ..conftest import GIT_ENV, git, write_files

# Every git configuration key that names a program (or turns one on), with the program it gets. `{p}` is the
# payload script of that key, which touches `<markers>/<key>` and passes stdin through (a working filter).
PROGRAM_KEYS: dict[str, str] = {
    "filter.evil.clean": "{p}",
    "filter.evil.smudge": "{p}",
    "filter.evilproc.process": "{p}",
    "diff.evil.textconv": "{p}",
    "diff.evil.command": "{p}",
    "diff.external": "{p}",
    "merge.evil.driver": "{p}",
    "core.fsmonitor": "{p}",
    "core.pager": "{p}",
    "pager.log": "{p}",
    "pager.diff": "{p}",
    "pager.status": "{p}",
    "core.sshCommand": "{p}",
    "core.gitProxy": "{p}",
    "core.askPass": "{p}",
    "credential.helper": "{p}",
    "core.alternateRefsCommand": "{p}",
    "core.editor": "{p}",
    "sequence.editor": "{p}",
    "gpg.program": "{p}",
    "gpg.ssh.program": "{p}",
    "gpg.x509.program": "{p}",
    "uploadpack.packObjectsHook": "{p}",
    "remote.origin.uploadpack": "{p}",
    "remote.origin.receivepack": "{p}",
    "remote.origin.url": "ext::{p}",
}
# Keys that do not name a program but make git reach for one of the above.
SWITCHES = {"log.showSignature": "true", "commit.gpgSign": "true", "remote.origin.promisor": "true",
            "diff.evil.binary": "false"}
HOOKS = ("pre-commit", "post-checkout", "post-index-change", "reference-transaction", "fsmonitor-watchman",
         "post-commit", "pre-auto-gc", "post-rewrite", "pre-push")
# Config files pulled in by include.path and includeIf, each with its own filter (applied to other files).
INCLUDED = {"include.path": ("inc", "*.yml"), "includeIf.gitdir:/.path": ("incif", "*.sh")}  # marker: "/" -> "_"


def payload(markers: Path, name: str) -> Path:
    """A script that records that `name` ran, then copies stdin to stdout."""
    name = name.replace("/", "_")
    script = markers.parent / "payloads" / f"{name}.sh"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(f"#!/bin/sh\ntouch '{markers / name}'\ncat 2>/dev/null\nexit 0\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def plant_git_config(root: Path, markers: Path) -> list[str]:
    """Plant every program key, hook and include in `root`'s .git (a committed repository); returns the names
    whose marker would appear if git ran them."""
    markers.mkdir(parents=True, exist_ok=True)
    names: list[str] = []
    for key, value in PROGRAM_KEYS.items():
        git(root, "config", key, value.format(p=payload(markers, key)))
        names.append(key)
    for key, value in SWITCHES.items():
        git(root, "config", key, value)
    git(root, "config", "extensions.partialClone", "origin")
    git(root, "config", "core.repositoryFormatVersion", "1")
    hooks = markers.parent / "hooks"
    hooks.mkdir(exist_ok=True)
    for hook in HOOKS:
        for folder, label in ((hooks, "hooksPath"), (root / ".git" / "hooks", "hooks")):
            target = folder / hook
            target.write_text(payload(markers, f"{label}-{hook}").read_text())
            target.chmod(0o755)
            names.append(f"{label}-{hook}")
    git(root, "config", "core.hooksPath", str(hooks))
    attributes = ["* filter=evil diff=evil merge=evil", "*.md filter=evilproc"]
    for key, (driver, pattern) in INCLUDED.items():
        included = markers.parent / f"{driver}.gitconfig"
        included.write_text(f'[filter "{driver}"]\n\tclean = {payload(markers, key)}\n'
                            f"\tsmudge = {payload(markers, key)}\n")
        git(root, "config", key, str(included))
        attributes.append(f"{pattern} filter={driver}")
        names.append(key)
    (root / ".git" / "info").mkdir(exist_ok=True)
    (root / ".git" / "info" / "attributes").write_text("\n".join(attributes) + "\n")
    write_files(root, {".gitattributes": "\n".join(attributes) + "\n"})
    return names


def dirty(root: Path) -> None:
    """Make every tracked file stat-dirty (a new mtime, so git would re-read it through filters) and add an
    untracked file: the states in which a stat-refreshing command runs clean filters."""
    for path in root.rglob("*"):
        if ".git" in path.relative_to(root).parts or not path.is_file():
            continue
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 7_000_000_000))
    (root / "untracked.yml").write_text("new: file\n")


def ran(markers: Path) -> list[str]:
    return sorted(p.name for p in markers.iterdir()) if markers.exists() else []


def plain_git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """git as a person would run it (no safety options): used only to prove the planted payloads are live."""
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, env=env, check=False,
                          stdin=subprocess.DEVNULL)
