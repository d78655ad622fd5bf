"""Errors a model can act on (issue 20, item 1), through the real MCP client: an opportunity that offers
`generate_with` generates (commands the converter cannot split safely stay manual steps, redaction marks never reach
a name or an instruction), and a spec that refuses such commands says which ones and the spec that keeps them."""

from __future__ import annotations

import json

import pytest
from mcp import Client

from orchestrator_kit.server import build_server

from .capability import error, ok
from .conftest import SECRET

pytestmark = pytest.mark.anyio

RUNBOOK = f"""\
# Rolling back

1. Find the previous release: `ssh deploy@app1.example.org ls -1t /opt/app/releases | sed -n 2p`
2. Log in with the token {SECRET} on the console
3. Install the deploy key:

   ```console
   $ cat > ~/.ssh/deploy_key <<'KEY'
   line one
   KEY
   ```

4. Restart the service: `systemctl restart app`
"""


@pytest.fixture
def runbook_repo(make_repo):
    return make_repo({"docs/runbooks/rollback.md": RUNBOOK, "src/app.py": "print('hi')\n"}, git_repo=True)


async def _procedure_opportunity(client) -> dict:
    matrix = await ok(client, "opportunity_matrix", kind="manual-procedure", max_tokens=20_000)
    [opportunity] = matrix["matrix"]["opportunities"]
    return opportunity | {"generate_with": matrix["generate_with"][opportunity["kind"]]}


@pytest.mark.parametrize("kind", ["shell-script", "github-workflow"])
async def test_every_generate_with_of_a_procedure_opportunity_generates(runbook_repo, kind):
    async with Client(build_server([runbook_repo])) as client:
        opportunity = await _procedure_opportunity(client)
        assert kind in opportunity["generate_with"]
        plan = await ok(client, "generate_automation", kind=kind, opportunity=opportunity["id"], max_tokens=30_000)
    text = "\n".join(plan["diff_lines"])
    assert plan["valid"], plan["findings"]
    assert "REDACTED" not in text and SECRET not in text
    assert "<secret>" in text  # the step that named a secret says there is one, without it
    assert "run by hand: ssh deploy@app1.example.org" in text  # the pipe stays a manual step, never run
    assert "more lines, see the runbook" in text  # the heredoc: its first line and a pointer
    assert "systemctl restart app" in text
    assert any("kept as a manual step" in note for note in plan["notes"])


async def test_a_procedure_spec_refusing_unsafe_commands_names_them_and_the_spec_that_keeps_them(runbook_repo):
    async with Client(build_server([runbook_repo])) as client:
        opportunity = await _procedure_opportunity(client)
        procedure = opportunity["related"][0]
        message = await error(client, "generate_automation", kind="procedure",
                              spec={"procedure": procedure, "target": "shell-script"})
    assert "rollback.md:3" in message and "pipe" in message
    assert f'{{"procedure": "{procedure}", "target": "shell-script", "skip_unsafe": true}}' in message


ECHO = {"name": "a", "commands": [{"argv": ["echo", "hi"]}]}


@pytest.mark.parametrize(("spec", "expected"), [
    ({"name": "x", "parameters": [], "steps": [ECHO]}, "parameters: unknown field; did you mean `params`?"),
    ({"name": "x", "steps": [{"name": "a", "commands": [{"argv": ["echo"], "environment": {}}]}]},
     "steps.0.commands.0.environment: unknown field; did you mean `env`? the fields here are: argv, env, unless"),
    ({"name": "x", "steps": [{"name": "a", "commands": [{"argv": ["echo", "${VERSION}"]}]}]},
     "'${VERSION}', which would be written literally"),
    ({"name": "x", "steps": [{"name": "a", "commands": [{"argv": ["echo", "$HOME"]}]}]}, "'$HOME'"),
    ({"name": "x", "params": [{"name": "version"}],
      "steps": [{"name": "a", "commands": [{"argv": ["git", "tag", "v{version}"]}]}]},
     '{"template": "v{version}"} to substitute the parameter \'version\''),
])
async def test_spec_mistakes_are_errors_naming_the_correction(build, spec, expected):
    async with Client(build()) as client:
        message = await error(client, "generate_automation", kind="shell-script", spec=spec)
    assert expected in message


async def test_a_template_word_and_literal_braces_in_a_template_still_generate(build):
    spec = {"name": "x", "params": [{"name": "version", "required": True}], "steps": [
        {"name": "a", "commands": [{"argv": ["git", "tag", {"template": "v{version}"}, {"template": "{{x}}"}]}]}]}
    async with Client(build()) as client:
        plan = await ok(client, "generate_automation", kind="shell-script", spec=spec, max_tokens=30_000)
    # the template's parameter is the script's variable; the doubled braces are literal (quoted in pieces)
    assert plan["valid"] and any('git tag v"${VERSION}"' in line and "x}" in line for line in plan["diff_lines"])


CIRCLECI_BAD = """\
version: 2.1
jobs:
  build:
    docker:
      - image: cimg/base:stable
    steps: 5
"""
CIRCLECI_GOOD = """\
version: 2.1
jobs:
  build:
    docker:
      - image: cimg/base:stable
    steps:
      - checkout
      - run: make test
workflows:
  main:
    jobs: [build]
"""


async def test_a_circleci_config_is_validated_with_the_circleci_schema(make_repo):
    root = make_repo({".circleci/config.yml": CIRCLECI_BAD, "ci/good/.circleci/config.yml": CIRCLECI_GOOD})
    async with Client(build_server([root])) as client:
        bad = await ok(client, "validate_automation", paths=[".circleci/config.yml"], max_tokens=20_000)
        good = await ok(client, "validate_automation", paths=["ci/good/.circleci/config.yml"], max_tokens=20_000)
    assert bad["reports"][0]["kind"] == "circleci-config" and "schema (vendor.circle-ci)" in bad["reports"][0]["checked"]
    assert not bad["ok"] and any(f["validator"] == "schema" for f in bad["findings"])
    assert good["ok"] and good["reports"][0]["checked"] == ["yaml", "schema (vendor.circle-ci)"]


async def test_a_file_no_validator_reads_lists_the_kinds_and_says_none_can(make_repo):
    root = make_repo({"Jenkinsfile": "pipeline { agent any }\n"})
    async with Client(build_server([root])) as client:
        message = await error(client, "validate_automation", paths=["Jenkinsfile"])
    assert "circleci-config (.circleci/config.yml)" in message and "github-workflow (.github/workflows/*.yml)" in message
    assert "no validator here can check it" in message and "pass `kind`" in message


async def test_the_spec_input_documents_its_schema_and_an_example_that_generates(build):
    async with Client(build()) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        described = tools["generate_automation"].input_schema["properties"]["spec"]["description"]
        example, _end = json.JSONDecoder().raw_decode(described, described.index("Example shell-script: ") + 22)
        plan = await ok(client, "generate_automation", kind="shell-script", spec=example, max_tokens=30_000)
    assert '{"template": "v{version}"}' in described and "params" in described and "skip_unsafe" in described
    assert plan["valid"]  # the documented example is a working spec
