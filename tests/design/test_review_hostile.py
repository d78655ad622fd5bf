"""Hostile input found in review of issue 19's design features: each test is one bug that was fixed (the input that
broke, and what must hold now)."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from orchestrator_kit.design import export_workflow_ci

from .test_ci_export import release

EVIL = "x${{ github.event.issue.title }}\n$(id);`rm -rf /`'\""


def _renamed(design: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    text = json.dumps(design)
    for old, new in names.items():
        text = text.replace(json.dumps(old), json.dumps(new))
    return json.loads(text)


def test_github_export_says_no_expression_from_names_actions_or_concurrency_key():
    """Before: the design name, a state name and an action `${{ ... }}` went verbatim into workflow, job and step
    names, which GitHub evaluates; a fixed concurrency key went into the group the same way."""
    design = _renamed(release(), {"build": "b ${{ github.token }} $(id)\nx"})
    design["name"] = "Rel ${{ secrets.TOKEN }}"
    design["concurrency"] = {"key": "k${{ secrets.TOKEN }}"}
    for state in design["states"]:
        if state.get("type") == "task":
            state["action"] = EVIL
    export = export_workflow_ci(design, target="github-actions")
    assert export.valid, export.findings
    expressions = re.findall(r"\$\{\{(.*?)\}\}", export.text)
    assert {e.strip() for e in expressions} <= {"github.workflow"} | {
        e.strip() for e in expressions if e.strip().startswith("always() && contains(needs.*.result")
    }
    workflow = yaml.safe_load(export.text)
    assert workflow["name"] == "Rel $ {{ secrets.TOKEN }}"
    first = next(iter(workflow["jobs"].values()))
    assert first["name"] == "b $ {{ github.token }} $(id) x"  # one line, no expression
    assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key) for key in workflow["jobs"])


def test_gitlab_state_named_like_a_pipeline_keyword_does_not_replace_the_pipeline_settings():
    """Before: states named `stages`, `variables`, `workflow` became job keys that overwrote the pipeline's stages
    list, variables and workflow rules (the schema rejected the file)."""
    design = _renamed(release(), {"build": "stages", "approve": "variables", "publish": "workflow"})
    export = export_workflow_ci(design, target="gitlab-ci")
    assert export.valid, export.findings
    pipeline = yaml.safe_load(export.text)
    assert pipeline["stages"][0] == "step-1" and isinstance(pipeline["stages"], list)
    assert pipeline["workflow"]["rules"][0]["if"] == '$CI_PIPELINE_SOURCE == "web"'
    jobs = {k: v for k, v in pipeline.items() if isinstance(v, dict) and "stage" in v}
    assert {"stages-2", "variables-2", "workflow-2"} <= set(jobs)
    assert "./scripts/workflow/stages.sh" in jobs["stages-2"]["script"][0]
