"""No validator runs repository code: each external validator gets a file with payloads that would leave a marker
(outside the validator's temporary directory) if anything in it ran, through `validate_automation` on a real
repository; a control test shows the make payloads are live when make runs them unsandboxed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from orchestrator_kit.automation import generate_automation, sandbox, validate_automation

from ..automation.conftest import tool
from ..conftest import require_tool

# Each payload touches {m} (a path in the test's temporary directory) in a different way make allows under -n.
MAKE_PAYLOADS = {
    "shell-while-reading": "X := $(shell touch {m})\nall:\n\t@echo ok\n",
    "plus-line-with-override": "override SHELL := /bin/sh\nall:\n\t+touch {m}\n",
    "target-specific-override": "all: override SHELL := /bin/sh\nall:\n\t+touch {m}\n",
    "make-variable-line": "all:\n\t$(MAKE) -v >/dev/null; touch {m}\n",
    "file-function": "$(file >{m},pwned)\nall:\n\t@echo ok\n",
    "remade-include": "include gen.mk\ngen.mk:\n\ttouch {m}; echo 'X := 1' > gen.mk\nall:\n\t@echo ok\n",
    "eval-of-shell": "$(eval $(shell touch {m}))\nall:\n\t@echo ok\n",
    "prerequisite-of-the-check-goal": ".orchestrator-kit-check: evil\nevil:\n\t+touch {m}\nall:\n\t@:\n",
    "double-colon-plus": "all::\n\t+touch {m}\n",
}


def _modes() -> list[str]:
    return ["static", "sandbox"]


@pytest.fixture(params=_modes())
def make_mode(request, monkeypatch) -> str:
    """Run each make test twice: with the sandbox (bubblewrap, when it works here) and with none at all."""
    if request.param == "sandbox":
        require_tool("bubblewrap (a working bwrap)", sandbox.available()[0])
    else:
        monkeypatch.setattr(sandbox, "_probe", (None, "no sandbox: bubblewrap (bwrap) is not installed"))
    return request.param


@pytest.mark.parametrize("payload", sorted(MAKE_PAYLOADS))
def test_make_payloads_do_not_run(payload, make_mode, make_repo, tmp_path):
    require_tool("make", shutil.which("make"))
    marker = tmp_path / "marker"
    root = make_repo({"Makefile": MAKE_PAYLOADS[payload].format(m=marker)}, git_repo=True)
    for target in (None, "all"):
        result = validate_automation(root, ["Makefile"]) if target is None else None
        report = result.reports[0] if result else None
        if target:
            generated = generate_automation(root, "make-target", {"name": "release", "description": "Release",
                                                                  "commands": [{"argv": ["true"]}]})
            report = generated.validation[0]
        assert report is not None
        ran_make = any(c.startswith("make -n") for c in report.checked)
        assert ran_make == (make_mode == "sandbox"), (report.checked, report.skipped)
        if make_mode == "static":
            assert "make (static)" in report.checked
            assert any(s.validator == "make -n" and "no sandbox" in s.reason for s in report.skipped)
    assert not marker.exists(), f"{payload}: the Makefile ran a command"


@pytest.mark.parametrize("payload", ["plus-line-with-override", "shell-while-reading", "remade-include"])
def test_control_the_make_payloads_are_live(payload, tmp_path):
    """Without the sandbox, `make -n` itself runs these payloads: the class is real, and the test above can fail."""
    make = require_tool("make", shutil.which("make"))
    marker = tmp_path / "marker"
    work = tmp_path / "work"
    work.mkdir()
    (work / "Makefile").write_text(MAKE_PAYLOADS[payload].format(m=marker))
    subprocess.run([make, "-n", "all"], cwd=work, capture_output=True, check=False, timeout=30)
    assert marker.exists()


def test_the_sandbox_sees_no_host_file_and_cannot_write_the_copy(make_repo, tmp_path):
    require_tool("bubblewrap (a working bwrap)", sandbox.available()[0])
    secret = tmp_path / "host-secret.txt"
    secret.write_text("HOSTSECRET\n")
    text = (f"$(info [$(shell cat {secret} /etc/hostname 2>&1 | head -c 300)])\n"
            "$(info [$(shell ls / | tr '\\n' ' ')])\n"
            "$(info [$(shell touch /work/Makefile.new 2>&1; echo wrote $$?)])\n"
            "$(info [$(shell tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' \\n')])\n"
            "all:\n\t@:\n")
    root = make_repo({"Makefile": text}, git_repo=True)
    work, scratch = tmp_path / "w", tmp_path / "s"
    work.mkdir()
    scratch.mkdir()
    (work / "Makefile").write_text((root / "Makefile").read_text())
    proc = sandbox.run_sandboxed([shutil.which("make") or "make", "-n", "all"], work, scratch, timeout=20)
    assert not isinstance(proc, str), proc
    assert "HOSTSECRET" not in proc.stdout
    listing = proc.stdout.split("\n")[1]
    assert "home" not in listing and "root" not in listing and "etc" not in listing, listing
    assert not (work / "Makefile.new").exists()
    assert proc.stdout.split("\n")[3] == "[lo]", proc.stdout  # no network interface but loopback


def test_static_check_finds_what_make_reports(make_mode, make_repo):
    root = make_repo({"Makefile": "all:\n\techo ok\n\nbroken line\n", "b.mk": "\techo early\nall:\n\t@:\n",
                      "c.mk": "## release: Cut a release \\\nrelease:\n\t./release.sh\n"})
    reports = validate_automation(root, ["Makefile", "b.mk", "c.mk"]).reports
    messages = [[(f.line, f.message) for f in r.findings] for r in reports]
    assert (4, "missing separator") in messages[0]
    assert any(line == 1 and "recipe commences before first target" in m for line, m in messages[1])
    assert any(line == 1 and "comment ends with a backslash" in m for line, m in messages[2]), messages[2]


def test_a_generated_make_target_keeps_its_recipe_when_the_description_ends_in_a_backslash(make_repo):
    root = make_repo({"Makefile": "build: ## Build it\n\t@echo build\n"}, git_repo=True)
    result = generate_automation(root, "make-target", {"name": "release", "description": "Cut a release \\",
                                                       "commands": [{"argv": ["./release.sh"]}]})
    block = result.artifacts[0].text
    assert "Cut a release\n" in block and "\\\n" not in block
    assert not [f for f in result.validation[0].findings if "backslash" in f.message]


# ------------------------------------------------------------------ the other validators


def test_bash_n_and_shellcheck_run_nothing_and_read_no_sourced_file(make_repo, tmp_path):
    tool("shellcheck")
    marker = tmp_path / "marker"
    outside = tmp_path / "outside.sh"
    outside.write_text("LEAKTOKEN=( unterminated\n")
    script = (f"#!/usr/bin/env bash\n# shellcheck external-sources=true\ntouch {marker}\necho $(touch {marker})\n"
              f"# shellcheck source={outside}\n. {outside}\ntrap 'touch {marker}' EXIT\n")
    root = make_repo({"ci/run.sh": script, ".shellcheckrc": "external-sources=true\n"}, git_repo=True)
    report = validate_automation(root, ["ci/run.sh"]).reports[0]
    assert {"bash -n", "shellcheck"} <= set(report.checked)
    assert not marker.exists()
    assert not [f for f in report.findings if "LEAKTOKEN" in f.message or "unterminated" in f.message.lower()]


def test_just_summary_evaluates_nothing_and_never_follows_an_import(make_repo, tmp_path):
    tool("just")
    marker = tmp_path / "marker"
    text = (f"set shell := ['sh', '-c', 'touch {marker}']\nset dotenv-load\nx := `touch {marker}`\n"
            f"y := shell('touch {marker}')\nbuild:\n    touch {marker}\n    echo {{{{x}}}} {{{{y}}}}\n"
            f"script:\n    #!/bin/sh\n    touch {marker}\n")
    root = make_repo({"justfile": text, ".env": f"X=$(touch {marker})\n",
                      "imports.just": "import '/etc/passwd'\nbuild:\n    echo hi\n"}, git_repo=True)
    result = validate_automation(root, ["justfile", "imports.just"])
    assert "just --summary" in result.reports[0].checked and result.reports[0].ok
    assert [s.validator for s in result.reports[1].skipped] == ["just"]
    assert not [f for r in result.reports for f in r.findings if "root:" in f.message]
    assert not marker.exists()


def test_systemd_analyze_starts_no_unit_program(make_repo, tmp_path):
    tool("systemd-analyze")
    marker = tmp_path / "marker"
    unit = (f"[Unit]\nDescription=x\nDocumentation=man:evil(1)\n[Service]\nType=oneshot\n"
            f"ExecCondition=/bin/sh -c 'touch {marker}'\nExecStartPre=/bin/sh -c 'touch {marker}'\n"
            f"ExecStart=/bin/sh -c 'touch {marker}'\nExecStartPost=/bin/sh -c 'touch {marker}'\n")
    timer = "[Unit]\nDescription=x\n[Timer]\nOnCalendar=*-*-* 03:00:00\n[Install]\nWantedBy=timers.target\n"
    root = make_repo({"ops/evil.service": unit, "ops/evil.timer": timer}, git_repo=True)
    result = validate_automation(root, ["ops/evil.service", "ops/evil.timer"])
    assert "systemd-analyze verify" in result.reports[0].checked
    assert "systemd-analyze calendar" in result.reports[1].checked
    assert not marker.exists()


WORKFLOW = """\
name: ci
on: push
permissions: {}
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo ok
"""


def test_zizmor_ignores_a_planted_config(make_repo):
    tool("zizmor")
    quiet = "rules:\n  unpinned-uses:\n    disable: true\n  artipacked:\n    disable: true\n"
    root = make_repo({".github/workflows/ci.yml": WORKFLOW, ".github/zizmor.yml": quiet, "zizmor.yml": quiet},
                     git_repo=True)
    report = validate_automation(root, [".github/workflows/ci.yml"]).reports[0]
    assert "zizmor" in report.checked
    assert {"unpinned-uses", "artipacked"} <= {f.rule for f in report.findings if f.validator == "zizmor"}


@pytest.mark.parametrize("path", [".github/workflows/ci.yml", ".gitlab-ci.yml", ".pre-commit-config.yaml"])
def test_yaml_validators_construct_no_python_object(path, make_repo, tmp_path):
    tool("check-jsonschema")
    marker = tmp_path / "marker"
    text = f"x: !!python/object/apply:os.system ['touch {marker}']\ny: !!python/object/new:os.system ['touch {marker}']\n"
    root = make_repo({path: text}, git_repo=True)
    report = validate_automation(root, [path]).reports[0]
    assert not report.ok  # reported as invalid YAML or a schema error, never constructed
    assert not marker.exists()


@pytest.mark.anyio
async def test_read_only_server_runs_no_makefile(make_repo, tmp_path, monkeypatch):
    """The real server (read-only, over stdio): validate_automation and generate_automation on a hostile Makefile."""
    from mcp import Client, StdioServerParameters

    from ..mcp_server.conftest import spawn_command

    require_tool("make", shutil.which("make"))
    marker = tmp_path / "marker"
    root = make_repo({"Makefile": "".join(MAKE_PAYLOADS[p].format(m=marker).replace("all:", f"all{i}:")
                                          for i, p in enumerate(("plus-line-with-override", "shell-while-reading")))},
                     git_repo=True)
    command = spawn_command(root, extra=("--read-only",))
    async with Client(StdioServerParameters(command=command[0], args=command[1:],
                                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})) as client:
        checked = await client.call_tool("validate_automation", {"paths": ["Makefile"]})
        plan = await client.call_tool("generate_automation", {"kind": "make-target", "spec": {
            "name": "release", "description": "Release", "commands": [{"argv": ["true"]}]}})
    assert not checked.is_error and not plan.is_error, (checked.content, plan.content)
    assert not marker.exists()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_an_unknown_kind_is_refused_before_any_validator_runs(make_repo, monkeypatch):
    from orchestrator_kit.automation import validate as validate_module
    from orchestrator_kit.errors import InputError

    calls: list[str] = []
    monkeypatch.setattr(validate_module, "_run", lambda argv, *a, **k: calls.append(argv[0]) or "not run")
    root = make_repo({**{f".github/workflows/w{i}.yml": WORKFLOW for i in range(20)}, "README.md": "# x\n"})
    with pytest.raises(InputError, match="Cannot tell"):
        validate_automation(root, [*(f".github/workflows/w{i}.yml" for i in range(20)), "README.md"])
    assert calls == []
