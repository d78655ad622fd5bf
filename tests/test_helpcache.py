"""`--help` replayed from the help cache (cli/helpcache.py) is byte for byte what Typer prints, in every circumstance.

Each case runs the real console entry point in fresh interpreters: the first run renders with Typer and records, the
second replays. Typer's own output, the reference, comes from calling the whole Typer application directly,
which never looks at the cache. No wall-clock time is asserted; that a replay did not load Typer is checked from
`sys.modules` at exit.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator_kit.cli import helpcache

# Prints `sys.modules` to the file named by argv[1], then runs the console entry point with the rest of argv.
_ENTRY = (
    "import atexit, sys\n"
    "out = sys.argv.pop(1)\n"
    "atexit.register(lambda: open(out, 'w').write('\\n'.join(sys.modules)))\n"
    "from orchestrator_kit.cli import main\n"
    "main()\n"
)
_TYPER = "from orchestrator_kit.cli import app\napp(prog_name=\"orchestrator-kit\")\n"


def run(code: str, args: list[str], env: dict[str, str], *extra: str) -> tuple[int, bytes, bytes]:
    proc = subprocess.run([sys.executable, "-c", code, *extra, *args], capture_output=True, env=env, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "ORCHESTRATOR_KIT_CACHE_DIR": str(tmp_path / "cache")}


def entries(env: dict[str, str]) -> list[Path]:
    folder = Path(env["ORCHESTRATOR_KIT_CACHE_DIR"]) / helpcache.FOLDER
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize("args", [
    ["--help"], [], ["scan", "--help"], ["tokens", "--help"], ["mcp", "--help"], ["design", "--help"],
    ["design", "rules", "--help"], ["eval", "--help"],
])
def test_recorded_and_replayed_help_equal_typers(args: list[str], env: dict[str, str], tmp_path: Path) -> None:
    typer_out = run(_TYPER, args, env)
    assert typer_out[0] == (2 if not args else 0) and b"Usage: orchestrator-kit" in typer_out[1] + typer_out[2]
    modules = tmp_path / "modules.txt"
    first = run(_ENTRY, args, env, str(modules))
    assert "typer" in modules.read_text().split()  # the first run rendered with Typer
    assert len(entries(env)) == 1
    second = run(_ENTRY, args, env, str(modules))
    loaded = set(modules.read_text().split())
    assert first == typer_out
    assert second == typer_out
    # The replay loads no framework, and not even typing, re or json.
    assert not {"typer", "click", "rich", "pydantic", "typing", "re", "json"} & loaded


def test_each_terminal_width_gets_its_own_screen(env: dict[str, str]) -> None:
    outputs = {}
    for columns in ("60", "120"):
        wide = {**env, "COLUMNS": columns}
        reference = run(_TYPER, ["scan", "--help"], wide)
        assert run(_ENTRY, ["scan", "--help"], wide, os.devnull) == reference
        assert run(_ENTRY, ["scan", "--help"], wide, os.devnull) == reference
        outputs[columns] = reference[1]
    assert outputs["60"] != outputs["120"]
    assert max(len(line) for line in outputs["60"].decode().splitlines()) <= 60
    assert len(entries(env)) == 2


def test_terminal_settings_in_the_environment_are_part_of_the_key(env: dict[str, str]) -> None:
    reference = run(_TYPER, ["--help"], env)
    assert run(_ENTRY, ["--help"], env, os.devnull) == reference
    for name, value in (("NO_COLOR", "1"), ("TERM", "dumb"), ("ORCHESTRATOR_KIT_MODEL", "x")):
        changed = {**env, name: value}
        assert run(_ENTRY, ["--help"], changed, os.devnull) == run(_TYPER, ["--help"], changed)
    assert len(entries(env)) == 4  # one screen per setting, none replayed for another
    assert run(_ENTRY, ["--help"], {**env, "UNRELATED_VARIABLE": "1"}, os.devnull) == reference
    assert len(entries(env)) == 4


def test_a_mistyped_command_is_not_cached(env: dict[str, str]) -> None:
    code, _out, err = run(_ENTRY, ["no-such-command", "--help"], env, os.devnull)
    assert code == 2 and b"No such command" in err
    assert entries(env) == []


@pytest.mark.parametrize("damage", [
    b"", b"garbage", b"orchestrator-kit help 1\n", b"orchestrator-kit help 1\nkey\n0\n99999999999\n",
    b"\x00" * 5000, b"orchestrator-kit help 1\n" * 100_000,
])
def test_a_damaged_entry_is_replaced_by_typers_help(damage: bytes, env: dict[str, str]) -> None:
    reference = run(_TYPER, ["--help"], env)
    run(_ENTRY, ["--help"], env, os.devnull)
    [entry] = entries(env)
    entry.write_bytes(damage)
    assert run(_ENTRY, ["--help"], env, os.devnull) == reference
    assert entry.read_bytes() != damage  # written again
    assert run(_ENTRY, ["--help"], env, os.devnull) == reference


def test_an_unwritable_cache_still_prints_help(env: dict[str, str], tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    env = {**env, "ORCHESTRATOR_KIT_CACHE_DIR": str(blocked)}
    reference = run(_TYPER, ["--help"], env)
    assert run(_ENTRY, ["--help"], env, os.devnull) == reference
    assert run(_ENTRY, ["--help"], env, os.devnull) == reference


def test_a_changed_source_is_not_replayed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORCHESTRATOR_KIT_CACHE_DIR", str(tmp_path / "cache"))
    source = tmp_path / "command.py"
    source.write_text("old\n")
    st = source.stat()
    out, err = io.BytesIO(), io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(out))
    monkeypatch.setattr(sys, "stderr", io.TextIOWrapper(err))
    circumstances = helpcache.key(["--help"], "9.9")  # the streams are part of the key
    path = Path(helpcache.entry_path(circumstances))
    path.parent.mkdir(parents=True)
    path.write_bytes(helpcache.serialize(circumstances, 0, [(st.st_size, st.st_mtime_ns, str(source))],
                                         [(1, b"recorded help\n"), (2, b"a note\n")]))
    assert helpcache.replay(["--help"], "9.9") == 0
    assert (out.getvalue(), err.getvalue()) == (b"recorded help\n", b"a note\n")
    assert helpcache.replay(["--help"], "9.10") is None  # another version is another key
    source.write_text("new text\n")  # another size
    assert helpcache.replay(["--help"], "9.9") is None
    source.unlink()
    assert helpcache.replay(["--help"], "9.9") is None
    assert out.getvalue() == b"recorded help\n"  # nothing more was written


def test_serialize_and_parse_round_trip_any_bytes() -> None:
    chunks = [(1, bytes(range(256))), (2, b"\n\n"), (1, b"")]
    sources = [(3, 1_700_000_000_123_456_789, "/a b/c\udcff.py")]
    data = helpcache.serialize(b"('k',)", 2, sources, chunks)
    assert helpcache.parse(data, b"('k',)") == (2, sources, chunks)
    assert helpcache.parse(data, b"('other',)") is None
    with pytest.raises(ValueError):
        helpcache.parse(data + b"x", b"('k',)")


@pytest.mark.parametrize(("args", "expected"), [
    ([], True), (["--help"], True), (["design", "rules", "--help"], True),
    (["scan", ".", "--help"], False), (["--help", "scan"], False), (["scan"], False), (["-h"], False),
    (["a", "b", "c", "d", "--help"], False), (["x" * 41, "--help"], False), (["scän", "--help"], False),
    (["--version", "--help"], False), (["", "--help"], False),
])
def test_only_plain_help_requests_use_the_cache(args: list[str], expected: bool) -> None:
    assert helpcache.wants_help(args) is expected


def test_two_copies_of_one_version_each_replay_their_own_help(env: dict[str, str], tmp_path: Path) -> None:
    # Two checkouts of the same version run by one interpreter (one cache): the second must not be shown the
    # first one's help, though every source the first recorded is unchanged.
    import shutil

    package = Path(helpcache.__file__).parents[1]
    copies = []
    for name in ("a", "b"):
        shutil.copytree(package, tmp_path / name / "orchestrator_kit", ignore=shutil.ignore_patterns("__pycache__"))
        copies.append(tmp_path / name)
    typer_app = copies[1] / "orchestrator_kit" / "cli" / "typer_app.py"
    text = typer_app.read_text()
    assert "Print the version and exit." in text
    typer_app.write_text(text.replace("Print the version and exit.", "Print the version of copy b."))

    def entry(copy: Path) -> bytes:
        code = f"import sys\nsys.path.insert(0, {str(copy)!r})\n" + _ENTRY
        status, out, _err = run(code, ["--help"], env, os.devnull)
        assert status == 0
        return out

    assert b"Print the version and exit." in entry(copies[0])
    for _ in range(2):  # recorded, then replayed
        out = entry(copies[1])
        assert b"Print the version of copy b." in out and b"Print the version and exit." not in out
    assert b"Print the version and exit." in entry(copies[0])
    assert len(entries(env)) == 2


def test_the_folder_keeps_only_the_newest_entries(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(helpcache, "MAX_ENTRIES", 3)
    monkeypatch.setenv("ORCHESTRATOR_KIT_CACHE_DIR", env["ORCHESTRATOR_KIT_CACHE_DIR"])
    folder = Path(env["ORCHESTRATOR_KIT_CACHE_DIR"]) / helpcache.FOLDER
    folder.mkdir(parents=True)
    for age in range(5):  # five older entries, oldest first
        old = folder / f"old{age}"
        old.write_bytes(b"x")
        os.utime(old, ns=(1_000_000_000 * (age + 1), 1_000_000_000 * (age + 1)))
    helpcache._store(helpcache.key(["--help"], "1"), 0, [(1, b"help\n")])
    assert sorted(p.name for p in folder.iterdir()) == sorted(["old3", "old4", Path(helpcache.entry_path(
        helpcache.key(["--help"], "1"))).name])


def test_a_replay_that_cannot_write_ends_as_an_uncached_run_does(env: dict[str, str], tmp_path: Path) -> None:
    # stdout on a full device: the replay failed with a traceback (exit 1); an uncached run reports it its own way.
    def to_full(cache: Path) -> tuple[int, bytes]:
        with open("/dev/full", "wb") as full:
            proc = subprocess.run([sys.executable, "-c", _ENTRY, os.devnull, "scan", "--help"], stdout=full,
                                  stderr=subprocess.PIPE, timeout=120,
                                  env={**env, "ORCHESTRATOR_KIT_CACHE_DIR": str(cache)})
        return proc.returncode, proc.stderr

    uncached = to_full(tmp_path / "empty-cache")
    assert uncached[0] != 0 and b"No space left on device" in uncached[1] and b"Traceback" not in uncached[1]
    run(_ENTRY, ["scan", "--help"], env, os.devnull)  # recorded on a pipe: the same key as /dev/full
    assert len(entries(env)) == 1
    assert to_full(Path(env["ORCHESTRATOR_KIT_CACHE_DIR"])) == uncached
