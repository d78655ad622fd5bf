"""Repository text cannot act on the terminal: its control characters are shown as escapes in every output."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys

import pytest
from rich.table import Table
from rich.text import Text

from orchestrator_kit.fit import Col, print_fitted
from orchestrator_kit.terminal import printable, safe_console

from .conftest import git, write_files

ESC = "\x1b"
HOSTILE = [
    ("title\x1b]0;pwned\x07", "title\\u001b]0;pwned\\u0007"),  # OSC 0: the window title
    ("\x1b]8;;https://evil.example\x07docs\x1b]8;;\x07", "\\u001b]8;;https://evil.example\\u0007docs\\u001b]8;;\\u0007"),
    ("warning\x1b[2K\x1b[1A", "warning\\u001b[2K\\u001b[1A"),  # erase the line, cursor up
    ("safe\rEVIL", "safe\\u000dEVIL"),  # a lone carriage return overwrites the line
    ("\x9b31m", "\\u009b31m"),  # the C1 CSI
    ("a\x7fb", "a\\u007fb"),
    ("access = \u202eresu\u202c", "access = \\u202eresu\\u202c"),  # a bidirectional override (Trojan Source)
]


@pytest.mark.parametrize(("text", "shown"), HOSTILE)
def test_control_characters_are_shown_not_sent(text, shown):
    assert printable(text) == shown


def test_plain_text_tabs_line_feeds_and_windows_line_ends_are_kept():
    text = "make build\tok\r\nnext line\n  café ✓ 日本"
    assert printable(text) is text


@pytest.mark.parametrize(("text", "_shown"), HOSTILE)
def test_json_keeps_its_data(text, _shown):
    document = json.dumps({"name": text}, ensure_ascii=False)
    assert json.loads(printable(document)) == {"name": text}


def test_a_safe_console_never_sends_what_it_renders_and_keeps_its_own_styles():
    out = io.StringIO()
    console = safe_console(file=out, force_terminal=True, color_system="standard", width=120)
    table = Table("Task")
    table.add_row(Text("deploy\x1b]0;pwned", style="bold"))  # a Text made elsewhere: shown when rendered
    table.add_row("build\x1b[2J")  # a plain string: shown before it is laid out, so measured as shown
    console.print(table)
    console.print("plain \x1b[2J text", style="red", highlight=False)
    written = out.getvalue()
    assert "\x1b]0;" not in written and "\x1b[2J" not in written
    assert "deploy" in written and "build\\u001b[2J" in written and "plain \\u001b[2J text" in written
    assert "\x1b[1m" in written and "\x1b[31m" in written  # rich's own bold and red are sent as before


def test_a_fitted_table_shows_each_cell_whole():
    out = io.StringIO()
    # rich's Text drops BEL, backspace, vertical tab, form feed and CR itself, and keeps ESC
    print_fitted(safe_console(file=out, width=120), "Tasks", [Col("Task", "id"), Col("Runs", "text")],
                 [[Text("deploy\x1b]0;pwned\x07", style="bold"), "make \x1b[2K\x1b[1Adeploy\x07"]])
    written = out.getvalue()
    assert "deploy\\u001b]0;pwned" in written and "make \\u001b[2K\\u001b[1Adeploy\\u0007" in written
    assert "\x1b" not in written and "\x07" not in written


@pytest.fixture(scope="module")
def hostile_repo(tmp_path_factory):
    """A repository whose Makefile target, file name and commit author hold escape sequences."""
    root = tmp_path_factory.mktemp("escapes")
    write_files(root, {"Makefile": "\x1b[2Jclear:\n\techo x\n", "file\x1b[31mred.txt": "x\n"})
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "-c", "user.name=Eve\x1b[8m", "-c", "user.email=eve@example.com", "commit", "-q", "-m", "init")
    return root


@pytest.mark.parametrize("args", [
    ["scan", "--no-metrics", "--no-opportunities"],
    ["scan", "--no-metrics", "--no-opportunities", "-f", "markdown"],
    ["scan", "--no-metrics", "--no-opportunities", "-f", "json"],
    ["tokens"],  # the fast path, without Typer
    ["tokens", "--format", "json"],
    ["metrics", "--only", "history"],
    ["metrics", "--only", "history", "-f", "markdown"],
])
def test_no_command_sends_a_repositorys_escape_sequences(hostile_repo, args):
    proc = subprocess.run([sys.executable, "-m", "orchestrator_kit", args[0], str(hostile_repo), *args[1:]],
                          capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    assert ESC not in proc.stdout + proc.stderr
    assert "\\u001b[" in proc.stdout  # shown, not dropped: the reader sees something is there


def _at_a_terminal(args: list[str], cwd, answer: bytes) -> bytes:
    """What `orchestrator-kit args` writes with a pseudo-terminal as stdin, stdout and stderr, `answer` typed."""
    import pty  # POSIX only, like the prompt it reaches

    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "orchestrator_kit", *args], cwd=cwd, stdin=follower,
                            stdout=follower, stderr=follower, env={**os.environ, "COLUMNS": "200"})
    os.close(follower)
    os.write(leader, answer)
    written = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        written += chunk
    os.close(leader)
    assert proc.wait(timeout=300) == 0, written
    return written


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_the_apply_prompt_shows_a_repository_path_s_escape_sequences(tmp_path):
    repo = tmp_path / "repo\x1b[2J\x1b]0;pwned\x07"
    repo.mkdir()
    write_files(repo, {"Makefile": "build:\n\techo build\n", "spec.yaml": "name: tag-release\n"
                       "description: Tag the release\ncommands:\n  - git push origin main\n"})
    git(repo, "init", "-q", "-b", "main")
    written = _at_a_terminal(["generate", "make-target", "-s", str(repo / "spec.yaml"), "-C", str(repo), "--apply"], tmp_path,
                             b"n\n")
    assert b"Write these 1 change(s) to " in written and b"Nothing written." in written
    assert b"repo\\u001b[2J\\u001b]0;pwned\\u0007?" in written
    assert b"\x1b[2J" not in written and b"\x1b]0;" not in written and b"\x07" not in written


def test_log_handlers_show_control_characters_in_messages_arguments_and_tracebacks(monkeypatch):
    import logging

    from rich.logging import RichHandler

    from orchestrator_kit.terminal import printable_logs

    plain_out, rich_out = io.StringIO(), io.StringIO()
    plain = logging.StreamHandler(plain_out)
    from rich.console import Console

    rich_handler = RichHandler(console=Console(file=io.StringIO()), rich_tracebacks=True)  # as mcp sets it up
    monkeypatch.setattr(logging.getLogger(), "handlers", [plain, rich_handler])
    printable_logs()
    printable_logs()  # twice changes nothing
    assert plain.filters == rich_handler.filters and len(plain.filters) == 1
    rich_handler.console.file, rich_handler.console.width = rich_out, 300
    log = logging.getLogger("orchestrator_kit.test_terminal")
    log.warning("Invalid Host header: %s", "evil\x1b]0;pwned\x07\x9b2J")
    try:
        raise ValueError("bad \x1b[2J value")
    except ValueError:
        log.exception("failed on \u202eit")
    for written in (plain_out.getvalue(), rich_out.getvalue()):
        assert "evil\\u001b]0;pwned\\u0007\\u009b2J" in written and "failed on \\u202eit" in written
        assert "bad \\u001b[2J value" in written  # the traceback's exception message
        assert not any(c in written for c in "\x1b\x07\x9b\u202e")


def test_the_agent_view_shows_markup_in_a_model_s_tool_names_as_text():
    from orchestrator_kit.agent.view import LiveView

    out = io.StringIO()
    view = LiveView(safe_console(file=out, force_terminal=True, color_system="standard", width=200))

    class State:  # what turn() prints; the live table (usage, cost) is left out
        turn = 3

    view._table = lambda: Text("")  # type: ignore[method-assign]
    view.turn(State(), "[link=https://evil.example]answer[/link]",  # type: ignore[arg-type]
              ["[link=https://evil.example]scan_repository[/link]", "list_tasks"])
    written = out.getvalue()
    assert "\x1b]8;" not in written  # no hyperlink whose text hides its target
    shown = re.sub("\x1b\\[[0-9;]*m", "", written)  # rich's own colours (its highlighter) taken off
    assert shown == "  turn 3: [link=https://evil.example]answer[/link] -> [link=https://evil.example]scan_repository" \
                    "[/link], list_tasks\n"


def test_a_safe_console_writes_no_hyperlink_that_markup_in_repository_text_asks_for():
    out = io.StringIO()
    console = safe_console(file=out, force_terminal=True, color_system="standard", width=120)
    console.print("deploy [link=https://evil.example]docs[/link] [bold]now[/]")
    written = out.getvalue()
    assert "\x1b]8;" not in written and "evil.example" not in written
    assert re.sub("\x1b\\[[0-9;]*m", "", written) == "deploy docs now\n"
    assert "\x1b[1mnow" in written  # other styles are kept


def test_the_simulation_summary_shows_markup_in_a_design_s_name_as_text():
    from importlib import resources

    import yaml

    from orchestrator_kit.design.service import simulate_workflow_failures
    from orchestrator_kit.design.text import print_simulation

    example = resources.files("orchestrator_kit.design").joinpath("examples", "document-approval.yaml").read_text()
    design = {**yaml.safe_load(example), "name": "[link=https://evil.example]approval[/link]"}
    out = io.StringIO()
    print_simulation(simulate_workflow_failures(design),
                     safe_console(file=out, force_terminal=True, color_system="standard", width=200))
    written = out.getvalue()
    assert "\x1b]8;" not in written
    summary = [line for line in re.sub("\x1b\\[[0-9;]*m", "", written).splitlines() if "single faults" in line]
    assert summary[0].startswith("[link=https://evil.example]approval[/link]: 19 of 19 single faults consistent")


def test_a_warning_on_a_repository_s_python_file_shows_its_escape_sequences(tmp_path):
    # Parsing noxfile.py warns about its invalid escape sequence '\<ESC>' and quotes it: a SyntaxWarning shown by
    # default from Python 3.12 (a DeprecationWarning before), so every warning is shown here.
    write_files(tmp_path, {"noxfile.py": 'import nox\n\n@nox.session\ndef tests(session):\n'
                                         '    session.run("pytest", "a\\\x1b[2Jb")\n'})
    proc = subprocess.run([sys.executable, "-W", "always", "-m", "orchestrator_kit", "scan", str(tmp_path), "-f",
                           "json"], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "invalid escape sequence '\\\\u001b'" in proc.stderr
    assert ESC not in proc.stderr


def test_uvicorn_s_own_log_handlers_show_control_characters(monkeypatch, capsys):
    # The HTTP transport's uvicorn sets up handlers of its own (errors on stderr, request lines on stdout) when its
    # Config is made; its records stop there, never reaching the root handlers that printable_logs made safe before.
    import logging

    from orchestrator_kit.mcp_tools.http import HttpOptions, uvicorn_server

    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"):  # restored after the test
        logger = logging.getLogger(name)
        for attribute in ("handlers", "level", "propagate", "disabled"):
            monkeypatch.setattr(logger, attribute, getattr(logger, attribute))
        monkeypatch.setattr(logger, "handlers", [])

    async def app(scope, receive, send):  # pragma: no cover - never served here
        return None

    uvicorn_server(app, HttpOptions())
    try:  # what uvicorn logs when the app raises while handling a request for that path
        raise ValueError("no route for /\x1b]0;pwned\x07")
    except ValueError as exc:
        logging.getLogger("uvicorn.error").error("Exception in ASGI application\n", exc_info=exc)
    logging.getLogger("uvicorn.error").warning("Invalid header: %s", "evil\x1b[2J")
    access = logging.getLogger("uvicorn.access")
    access.setLevel(logging.INFO)  # request lines, shown at uvicorn's log level info, with the decoded path
    access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/\x1b[2Jx", "1.1", 404)
    out, err = capsys.readouterr()
    assert "ValueError: no route for /\\u001b]0;pwned\\u0007" in err and "Invalid header: evil\\u001b[2J" in err
    assert '"GET /\\u001b[2Jx HTTP/1.1" 404' in out  # uvicorn's access formatter still reads its arguments
    assert not any(c in out + err for c in "\x1b\x07")


def test_the_agent_view_s_live_table_shows_a_model_s_tool_name_as_text():
    # The live table names the tool a model's tool_use block asked for: as markup, '[/x]' raised MarkupError at the
    # redraw (the run ended) and '[link=...]' asked for a hyperlink.
    from orchestrator_kit.agent.store import RunState
    from orchestrator_kit.agent.view import LiveView

    out = io.StringIO()
    view = LiveView(safe_console(file=out, force_terminal=True, color_system="standard", width=200))
    view.state = RunState(run_id="r1", agent="process-orchestrator", repository="/repo", task="map it",
                          model="claude-test", stage="inventory", started_at="2026-01-01T00:00:00Z",
                          updated_at="2026-01-01T00:00:00Z")
    view.current_tool = "[/x][link=https://e.x]s\x1b]0;t\x07[/link]"
    view.console.print(view._table())
    shown = re.sub("\x1b\\[[0-9;]*m", "", out.getvalue())
    assert "tool               [/x][link=https://e.x]s\\u001b]0;t\\u0007[/link]" in shown
    assert "\x1b]" not in out.getvalue() and "\x07" not in out.getvalue()
