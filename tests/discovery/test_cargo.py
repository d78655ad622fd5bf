"""Cargo detector: [alias] in .cargo/config.toml and xtask crates."""

from __future__ import annotations

import pytest

from tests.conftest import errors_of, run_detectors

CONFIG = """\
[build]
jobs = 4

[alias]
xtask = "run --package xtask --"
ci = ["clippy", "--all-targets", "--", "-D", "warnings"]
bad = 3
"""
MAIN = """\
fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("dist") => dist(),
        Some("codegen") | Some("gen") => codegen(),
        _ => help(),
    }
}
"""


@pytest.mark.parametrize("config", [".cargo/config.toml", ".cargo/config"])
def test_aliases_and_xtask(make_repo, config):
    inventory = run_detectors(make_repo({config: CONFIG, "xtask/Cargo.toml": "[package]\nname = \"xtask\"\n",
                                         "xtask/src/main.rs": MAIN}), "cargo")
    assert errors_of(inventory) == []
    found = {(t.path, t.name): (t.invocation, [c.text for c in t.commands], t.evidence.line_start)
             for t in inventory.tasks}
    assert found == {
        (config, "xtask"): ("cargo xtask", ["cargo run --package xtask --"], 5),
        (config, "ci"): ("cargo ci", ["cargo clippy --all-targets -- -D warnings"], 6),
        ("xtask/Cargo.toml", "xtask"): ("cargo xtask", [], 1),
    }
    xtask = next(t for t in inventory.tasks if t.path == "xtask/Cargo.toml")
    assert xtask.attributes["subcommands"] == "dist, codegen"
    assert [(d.line, "'bad'" in d.reason) for d in inventory.diagnostics] == [(4, True)]


@pytest.mark.parametrize("text", ["", "[alias", "alias = 3", "[alias]\n" + "a = 'b'\n" * 3000])
def test_odd_configs(make_repo, text):
    assert errors_of(run_detectors(make_repo({".cargo/config.toml": text}), "cargo")) == []


def test_other_cargo_tomls_are_not_tasks(make_repo):
    assert run_detectors(make_repo({"Cargo.toml": "[package]\nname='x'\n", "config.toml": "[alias]\nb='build'\n"}),
                         "cargo").tasks == []
