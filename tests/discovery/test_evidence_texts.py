"""Discovery's texts survive redaction: commit SHAs, variable references and placeholders are not secrets.

Redaction itself is tested in tests/test_redaction.py; here the same texts go through a whole scan (procedures,
scripts, CI steps), so that a change to redaction that damages evidence fails here too.
"""

from __future__ import annotations

import pytest

from tests.conftest import errors_of, run_detectors

SAFE_COMMANDS = [
    "git checkout 3f2c1a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a39",
    "git cherry-pick a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0",
    'curl -H "Authorization: Bearer $GITHUB_TOKEN" https://api.github.com/repos/o/r/releases',
    "export DB_PASSWORD=${DB_PASSWORD:?set it first}",
    "export TOKEN=<your-token>",
    "aws configure set aws_secret_access_key YOUR_SECRET_KEY",
    "docker login -u \"$REGISTRY_USER\" --password-stdin < token.txt",
    "python -c 'import os; print(os.getenv(\"API_KEY\"))'",
    'node -e "console.log(process.env.API_TOKEN)"',
]


@pytest.mark.parametrize("command", SAFE_COMMANDS)
def test_runbook_commands_are_kept_whole(make_repo, command):
    text = f"# Hotfix\n\n1. Run the fix:\n\n   ```sh\n   {command}\n   ```\n2. Deploy the release.\n"
    inventory = run_detectors(make_repo({"RELEASING.md": text}), "markdown-procedures")
    assert errors_of(inventory) == []
    (procedure,) = inventory.procedures
    assert [c.text for s in procedure.steps for c in s.commands] == [command]


@pytest.mark.parametrize("command", SAFE_COMMANDS)
def test_script_and_ci_commands_are_kept_whole(make_repo, command):
    inventory = run_detectors(make_repo({
        "scripts/hotfix.sh": f"#!/bin/sh\n{command}\n",
        ".github/workflows/x.yml": f"on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: '{command.replace(chr(39), chr(39) * 2)}'\n",
    }), "scripts", "github-actions")
    assert [c.text for t in inventory.tasks for c in t.commands] == [command]
    assert [s.command for p in inventory.pipelines for j in p.jobs for s in j.steps] == [command]


def test_a_real_secret_in_the_same_places_is_still_redacted(make_repo):
    token = "ghp_" + "Zx8vQ2mN4kL7pR1sT9wYa3Bc5De7Fg9Hi1Jk"
    inventory = run_detectors(make_repo({"RELEASING.md": f"# Release\n\n```sh\ngh auth login --with-token {token}\n```\n"}),
                              "markdown-procedures")
    (procedure,) = inventory.procedures
    assert token not in procedure.steps[0].commands[0].text


def test_environment_lookups_in_a_python_script_stay_whole(make_repo):
    script = '#!/usr/bin/env python3\n"""Rotate the key."""\nimport os\n\napi_key = os.getenv("API_KEY")\n'
    inventory = run_detectors(make_repo({"scripts/rotate.py": script,
                                         "RUNBOOK.md": '# Rotate\n\n```sh\nexport API_KEY="$(vault read -field=key x)"\n'
                                                       "./scripts/rotate.py\n```\n"}), "scripts", "markdown-procedures")
    (procedure,) = inventory.procedures
    assert [c.text for c in procedure.steps[0].commands] == [
        'export API_KEY="$(vault read -field=key x)"', "./scripts/rotate.py"]
    assert inventory.tasks[0].description == "Rotate the key."
