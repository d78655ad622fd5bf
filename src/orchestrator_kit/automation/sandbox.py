"""A real sandbox for the one validator that may run repository code: bubblewrap (`bwrap`), when it works here.

GNU make cannot be made safe by options alone: `$(shell)` runs while the makefile is read, `+` lines and
`$(MAKE)` lines run under `-n`, a target-specific `override SHELL := /bin/sh` beats `SHELL=` on the command line,
included makefiles are remade, and other rules can add prerequisites to any goal. So `make -n` runs only inside
`run_sandboxed`, and when no working sandbox exists it does not run at all (`makecheck` checks the file instead).

What the sandbox allows (`bwrap_argv`):

* no network (`--unshare-all` gives it a network namespace with no interface), no other process to see
  (`--unshare-pid`), no terminal to push input into (`--new-session`), and it dies with its parent;
* a read-only view of the host's `/usr` (programs and libraries) and nothing else of the host: no home folder,
  no `/etc`, no `/tmp`, no repository;
* the copy under check at `/work`, read-only, and one writable scratch folder at `/scratch` (HOME and TMPDIR),
  both inside the validator's temporary directory, which is deleted afterwards;
* limits: CPU seconds, address space, file size and open files (`setrlimit` before exec), and a wall-clock timeout.

`available()` probes once per process: bwrap present and able to start `true` inside such a sandbox (a container
without user namespaces fails the probe; the reason is kept for the report).
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import threading
from pathlib import Path

CPU_SECONDS = 20
MEMORY_BYTES = 1 << 30
FILE_BYTES = 16 << 20
OPEN_FILES = 256

_probe: tuple[str | None, str] | None = None
_probe_lock = threading.Lock()


def bwrap_argv(bwrap: str, work: Path, scratch: Path, argv: list[str]) -> list[str]:
    """The bubblewrap command line that runs `argv` with `work` read-only at /work and `scratch` writable."""
    args = [bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--clearenv",
            "--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev"]
    for top in ("bin", "sbin", "lib", "lib32", "lib64"):
        host = Path("/") / top
        if host.is_symlink():  # merged /usr: /bin -> usr/bin
            args += ["--symlink", os.readlink(host), f"/{top}"]
        elif host.is_dir():
            args += ["--ro-bind", str(host), f"/{top}"]
    args += ["--ro-bind", str(work), "/work", "--bind", str(scratch), "/scratch", "--chdir", "/work",
             "--setenv", "HOME", "/scratch", "--setenv", "TMPDIR", "/scratch", "--setenv", "PATH", "/usr/bin:/bin",
             "--setenv", "LC_ALL", "C.UTF-8", "--", *argv]
    return args


def _limits() -> None:  # runs in the child between fork and exec
    for limit, value in ((resource.RLIMIT_CPU, CPU_SECONDS), (resource.RLIMIT_AS, MEMORY_BYTES),
                         (resource.RLIMIT_FSIZE, FILE_BYTES), (resource.RLIMIT_NOFILE, OPEN_FILES)):
        resource.setrlimit(limit, (value, value))


def available() -> tuple[str | None, str]:
    """(path of a working bwrap, "") or (None, why there is no sandbox). Probed once per process."""
    global _probe
    with _probe_lock:
        if _probe is None:
            _probe = _check()
        return _probe


def _check() -> tuple[str | None, str]:
    bwrap = os.environ.get("ORCHESTRATOR_KIT_BWRAP") or shutil.which("bwrap")
    if not bwrap:
        return None, "no sandbox: bubblewrap (bwrap) is not installed"
    import tempfile

    with tempfile.TemporaryDirectory(prefix="orchestrator-kit-probe-") as tmp:
        work, scratch = Path(tmp, "work"), Path(tmp, "scratch")
        work.mkdir()
        scratch.mkdir()
        true = shutil.which("true", path="/usr/bin:/bin") or "/bin/true"
        try:
            proc = subprocess.run(bwrap_argv(bwrap, work, scratch, [true]), capture_output=True, text=True,
                                  timeout=20, check=False, stdin=subprocess.DEVNULL, errors="replace")
        except (OSError, subprocess.SubprocessError) as exc:
            return None, f"no sandbox: bwrap could not start ({exc})"
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        return None, f"no sandbox: bwrap cannot create one here ({last})"
    return bwrap, ""


def run_sandboxed(argv: list[str], work: Path, scratch: Path, *, timeout: float
                  ) -> subprocess.CompletedProcess[str] | str:
    """Run `argv` (paths as seen inside: the copy is /work) in the sandbox; the finished process, or a string
    saying why it did not run or finish."""
    bwrap, reason = available()
    if bwrap is None:
        return reason
    try:
        return subprocess.run(bwrap_argv(bwrap, work, scratch, argv), capture_output=True, text=True,
                              timeout=timeout, check=False, stdin=subprocess.DEVNULL, errors="replace",
                              preexec_fn=_limits, env={})
    except subprocess.TimeoutExpired:
        return f"{Path(argv[0]).name} did not finish within {timeout:.0f} s (in the sandbox)"
    except OSError as exc:
        return f"the sandbox could not start: {exc.strerror or exc}"
