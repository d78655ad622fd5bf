"""Confinement: tools reach only the configured roots; every escape is refused with a message naming the value."""

from __future__ import annotations

import os
import shutil

import pytest
from mcp import Client

from orchestrator_kit.errors import ConfinementError, InputError
from orchestrator_kit.mcp_tools.roots import Roots

pytestmark = pytest.mark.anyio


@pytest.fixture
def outside(tmp_path):
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text("not yours\n")
    return folder


def test_roots_default_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    roots = Roots([])
    assert [r.path for r in roots.roots] == [tmp_path.resolve()]


def test_root_names_are_unique(tmp_path):
    (tmp_path / "a" / "app").mkdir(parents=True)
    (tmp_path / "b" / "app").mkdir(parents=True)
    roots = Roots([tmp_path / "a" / "app", tmp_path / "b" / "app", tmp_path / "a" / "app"])
    assert [r.name for r in roots.roots] == ["app", "app-2"]


@pytest.mark.parametrize("bad", ["missing", "file.txt"])
def test_a_root_must_be_an_existing_directory(tmp_path, bad):
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(InputError, match=f"Root '.*{bad}' is not an existing directory"):
        Roots([tmp_path / bad])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-rf", "starts with '-'"),
        ("--upload-pack=evil", "starts with '-'"),
        ("..", "contains a '..' component"),
        ("../outside", "contains a '..' component"),
        ("sub/../../outside", "contains a '..' component"),
        ("a\x00b", "contains a NUL character"),
        ("", "must be a non-empty path"),
    ],
)
def test_repository_values_refused_before_any_disk_access(shop, value, message):
    with pytest.raises(ConfinementError, match=message):
        Roots([shop]).repository(value)


def test_repository_inside_the_roots(shop, tmp_path):
    roots = Roots([shop])
    assert roots.repository(".")[1] == shop.resolve()
    assert roots.repository("docs/runbooks")[1] == (shop / "docs" / "runbooks").resolve()
    assert roots.repository(str(shop / "docs"))[1] == (shop / "docs").resolve()


def test_absolute_paths_and_symlinks_outside_are_refused(shop, outside):
    roots = Roots([shop])
    with pytest.raises(ConfinementError, match=f"Repository '{outside}' is outside the configured roots"):
        roots.repository(str(outside))
    os.symlink(outside, shop / "escape")
    with pytest.raises(ConfinementError, match="Repository 'escape' is outside the configured roots"):
        roots.repository("escape")


def test_a_vanished_root_is_an_input_error(shop):
    roots = Roots([shop])
    shutil.rmtree(shop)
    with pytest.raises(InputError, match=r"the root '.*' no longer exists"):
        roots.repository(".")


# ---------------------------------------------------------------- through the protocol


async def _error(server, tool: str, **arguments) -> str:
    async with Client(server) as client:
        result = await client.call_tool(tool, arguments)
    assert result.is_error, result.structured_content
    assert result.structured_content is None
    return result.content[0].text


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        ("read_file", {"path": "../outside/secret.txt"}, "Path '../outside/secret.txt' contains a '..' component"),
        ("read_file", {"path": "/etc/passwd"}, "Path '/etc/passwd' is outside the repository"),
        ("read_file", {"path": "-n"}, "Path '-n' starts with '-'"),
        ("read_file", {"path": "escape/secret.txt"}, "Path 'escape/secret.txt' is outside the repository"),
        ("read_file", {"path": "Makefile", "repository": "/etc"}, "Repository '/etc' is outside the configured roots"),
        ("scan_repository", {"repository": "escape"}, "Repository 'escape' is outside the configured roots"),
        ("scan_repository", {"repository": "--help"}, "Repository '--help' starts with '-'"),
        ("list_tasks", {"repository": "../.."}, "Repository '../..' contains a '..' component"),
        ("search_repository", {"pattern": "x", "path_glob": "../*"}, "path_glob '../*' contains a '..' component"),
        ("search_repository", {"pattern": "x", "repository": "/"}, "Repository '/' is outside the configured roots"),
    ],
)
async def test_tools_refuse_escapes_with_the_value_named(build, shop, outside, tool, arguments, message):
    os.symlink(outside, shop / "escape")
    text = await _error(build(), tool, **arguments)
    assert message in text
    assert "not yours" not in text


async def test_a_second_root_is_reachable_by_absolute_path(build, shop, outside):
    async with Client(build([shop, outside])) as client:
        result = await client.call_tool("read_file", {"path": "secret.txt", "repository": str(outside)})
    assert not result.is_error
    assert result.structured_content["text"] == "1\tnot yours"
