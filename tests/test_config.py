"""The team's settings: `.orchestrator-kit.toml` or pyproject's `[tool.orchestrator-kit]`, validated."""

from __future__ import annotations

import os

import pytest

from orchestrator_kit.config import Config, ConfigError, load_config


def write(root, name, text):
    (root / name).write_text(text, encoding="utf-8")


def test_defaults_without_any_file(tmp_path):
    config = load_config(tmp_path)
    assert config == Config() and config.source == "defaults"
    assert config.opportunities.cache_saving == 0.75


def test_pyproject_table(tmp_path):
    write(tmp_path, "pyproject.toml", "[project]\nname='x'\n[tool.orchestrator-kit.opportunities]\n"
                                      "cache_saving = 0.5\nrelease_runs_per_year = 6\n")
    config = load_config(tmp_path)
    assert config.opportunities.cache_saving == 0.5 and config.opportunities.release_runs_per_year == 6
    assert config.source == "pyproject.toml [tool.orchestrator-kit]"


def test_own_file_wins_over_pyproject(tmp_path):
    write(tmp_path, "pyproject.toml", "[tool.orchestrator-kit.opportunities]\ncache_saving = 0.5\n")
    write(tmp_path, ".orchestrator-kit.toml", "[opportunities]\ngate_minutes = 1\n")
    config = load_config(tmp_path)
    assert config.opportunities.gate_minutes == 1 and config.opportunities.cache_saving == 0.75


def test_pyproject_without_our_table_or_broken_is_defaults(tmp_path):
    write(tmp_path, "pyproject.toml", "[project]\nname = 'x'\n")
    assert load_config(tmp_path).source == "defaults"
    write(tmp_path, "pyproject.toml", "[project\nname = ")
    assert load_config(tmp_path).source == "defaults"  # the scan reports a broken pyproject on its own
    write(tmp_path, "pyproject.toml", "[project]\nversion = " + "9" * 5000 + "\n")
    assert load_config(tmp_path).source == "defaults"  # was a ValueError out of tomllib
    write(tmp_path, "pyproject.toml", "[project]\nx = " + "[" * 3000 + "]" * 3000 + "\n")
    assert load_config(tmp_path).source == "defaults"  # was a RecursionError


@pytest.mark.parametrize(("text", "message"), [
    ("[opportunities]\ncache_savin = 0.5\n", "'opportunities.cache_savin': Extra inputs are not permitted"),
    ("[opportunities]\ncache_saving = 7\n", "'opportunities.cache_saving'"),
    ("[opportunities]\ncache_saving = 'lots'\n", "'opportunities.cache_saving'"),
    ("source = 'me'\n", "'source' is not a setting"),
    ("[opportunities\n", "not valid TOML"),
    ("opportunities = 3\n", "'opportunities'"),
    # tomllib raised ValueError and RecursionError for these: the whole scan ended with "Internal error"
    ("[scan]\nx = " + "9" * 5000 + "\n", "not valid TOML: Integer of more than 4300 digits (at line 2, column 5)."),
    ("x = " + "[" * 3000 + "]" * 3000 + "\n", "not valid TOML: Nesting too deep (at line 1, column 1)."),
])
def test_bad_settings_are_one_line_errors(tmp_path, text, message):
    write(tmp_path, ".orchestrator-kit.toml", text)
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_huge_or_hostile_files(tmp_path):
    write(tmp_path, ".orchestrator-kit.toml", "# " + "x" * 400_000 + "\n")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(tmp_path)
    os.remove(tmp_path / ".orchestrator-kit.toml")
    outside = tmp_path.parent / f"{tmp_path.name}-secret.toml"
    outside.write_text("[opportunities]\ngate_minutes = 1\n", encoding="utf-8")
    os.symlink(outside, tmp_path / ".orchestrator-kit.toml")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(tmp_path)


def test_the_readme_example_is_valid():
    from pathlib import Path

    from orchestrator_kit.config import parse_config

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("```toml\n[opportunities]", 1)[1].split("```", 1)[0]
    config = parse_config("[opportunities]" + block, ".orchestrator-kit.toml")
    assert config.opportunities.release_runs_per_year == 24 and config.opportunities.effort_hours_per_complexity == 3
