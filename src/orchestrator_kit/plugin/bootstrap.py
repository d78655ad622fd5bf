"""Start the orchestrator-kit MCP server for the Claude Code plugin, on a machine that has only Python 3.11+ (or uv).

Claude Code runs `python3 ${CLAUDE_PLUGIN_ROOT}/src/orchestrator_kit/plugin/bootstrap.py` (see plugin.json). This
script uses the standard library only, so it runs before anything is installed:

1. It picks a virtual environment for this plugin version: `$ORCHESTRATOR_KIT_PLUGIN_VENV` if set, else
   `$CLAUDE_PLUGIN_DATA/venv` (Claude Code's persistent folder for a plugin), else
   `~/.cache/orchestrator-kit/plugin/<version>/venv`.
2. If that environment does not hold this plugin (a stamp file names the version and the plugin folder), it creates
   it and installs the plugin folder into it: with `uv` when uv is on PATH (fast), else `python -m venv` and pip.
   pip honours its usual settings (`PIP_INDEX_URL`, `PIP_FIND_LINKS`, `PIP_NO_INDEX`, a pip.conf), so a mirror or an
   offline wheelhouse works. Concurrent starts wait on a lock file; a failed install leaves no stamp and says why.
3. It replaces itself with `<venv>/bin/python -m orchestrator_kit mcp`, in the same working directory, so the
   server's default root is the folder Claude Code was started in (which is also `CLAUDE_PROJECT_DIR` and the MCP
   root Claude Code announces).

`$ORCHESTRATOR_KIT_PLUGIN_PYTHON` names an interpreter that already has orchestrator-kit (a development checkout,
a pip install of your own): then nothing is installed and that interpreter serves.

`--prepare` installs and exits without serving (to do the slow first install before Claude Code's MCP start-up
timeout counts it). Everything it prints goes to stderr: stdout is the MCP channel.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

MIN_PYTHON = (3, 11)
STAMP = "orchestrator-kit-plugin.stamp"
PLUGIN_ROOT = Path(__file__).resolve().parents[3]


def say(message: str) -> None:
    print(f"orchestrator-kit plugin: {message}", file=sys.stderr, flush=True)


def plugin_version(root: Path) -> str:
    """The `version` of the plugin's pyproject.toml (read with a regex: tomllib may be missing on an old Python)."""
    text = (root / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'^version\s*=\s*"([^"]+)"', text, re.M)
    if match is None:
        raise SystemExit("orchestrator-kit plugin: no version in pyproject.toml; the plugin folder is incomplete")
    return match.group(1)


def venv_dir(version: str) -> Path:
    if os.environ.get("ORCHESTRATOR_KIT_PLUGIN_VENV"):
        return Path(os.environ["ORCHESTRATOR_KIT_PLUGIN_VENV"])
    if os.environ.get("CLAUDE_PLUGIN_DATA"):
        return Path(os.environ["CLAUDE_PLUGIN_DATA"]) / "venv"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "orchestrator-kit" / "plugin" / version / "venv"


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def stamp_text(root: Path, version: str) -> str:
    return f"{version}\n{root}\n"


def is_ready(venv: Path, root: Path, version: str) -> bool:
    stamp = venv / STAMP
    try:
        return venv_python(venv).exists() and stamp.read_text(encoding="utf-8") == stamp_text(root, version)
    except OSError:
        return False


def run(argv: list[str]) -> None:
    """Run an install step with its output on stderr; exit with a one-line reason when it fails."""
    result = subprocess.run(argv, stdout=sys.stderr, stderr=sys.stderr, check=False)
    if result.returncode != 0:
        raise SystemExit(f"orchestrator-kit plugin: '{' '.join(argv[:4])} ...' failed (exit {result.returncode})")


def install(venv: Path, root: Path, version: str) -> None:
    say(f"installing orchestrator-kit {version} into {venv} (first start only)")
    if venv.exists():
        shutil.rmtree(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    uv = shutil.which("uv")
    if uv and not os.environ.get("ORCHESTRATOR_KIT_PLUGIN_NO_UV"):
        run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)])
        run([uv, "pip", "install", "--quiet", "--python", str(venv_python(venv)), str(root)])
    else:
        run([sys.executable, "-m", "venv", str(venv)])
        run([str(venv_python(venv)), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(root)])
    (venv / STAMP).write_text(stamp_text(root, version), encoding="utf-8")
    say("installed")


def ensure(venv: Path, root: Path, version: str) -> None:
    """Install unless ready, holding a lock so that two sessions starting at once do not install twice."""
    if is_ready(venv, root, version):
        return
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f"{venv.name}.lock", "w", encoding="utf-8") as lock:
        try:
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)
        except ImportError:  # Windows: no advisory lock; concurrent first starts are unlikely there
            pass
        if not is_ready(venv, root, version):
            install(venv, root, version)


def main(argv: list[str]) -> int:
    if sys.version_info < MIN_PYTHON:
        say(f"needs Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]}+, this is {sys.version.split()[0]} ({sys.executable})")
        return 1
    python = os.environ.get("ORCHESTRATOR_KIT_PLUGIN_PYTHON", "")
    if not python:
        version = plugin_version(PLUGIN_ROOT)
        venv = venv_dir(version)
        ensure(venv, PLUGIN_ROOT, version)
        python = str(venv_python(venv))
    if "--prepare" in argv:
        say(f"ready: {python}")
        return 0
    server = [python, "-m", "orchestrator_kit", "mcp", *[a for a in argv if a != "--prepare"]]
    if os.name == "nt":  # no exec on Windows: run the server as a child and pass its exit code on
        return subprocess.run(server, check=False).returncode
    os.execv(python, server)  # noqa: S606 - our own venv's interpreter with fixed arguments, no shell
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
