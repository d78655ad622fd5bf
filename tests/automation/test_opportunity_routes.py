"""Every opportunity kind is generatable or plainly advice only; acme-shop's two quick wins (dependency caches)
generate a validated edit of their workflow."""

from __future__ import annotations

import subprocess
import sys
from typing import get_args

import pytest
import yaml

from orchestrator_kit.automation import apply_automation, generate_automation
from orchestrator_kit.automation.generate import GENERATORS as KIND_GENERATORS
from orchestrator_kit.metrics.models import OpportunityKind
from orchestrator_kit.opportunities import opportunities
from orchestrator_kit.opportunities.routes import ROUTES, route

from .conftest import ROOT, tool

README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("kind", get_args(OpportunityKind))
def test_every_kind_is_decided(kind):
    """A new kind in OpportunityKind fails here until it has a route: generators that exist, or a reason."""
    way = ROUTES[kind]
    assert bool(way.generate_with) != bool(way.advice_only)
    assert set(way.generate_with) <= set(KIND_GENERATORS) | {"procedure"}
    assert f"| {kind}" in README  # and the README's table says so


def test_routes_cover_exactly_the_kinds():
    assert set(ROUTES) == set(get_args(OpportunityKind))


@pytest.mark.parametrize(("anchor", "generated"), [
    ("cache\x00github-actions:.github/workflows/ci.yml", True),
    ("cache\x00gitlab-ci:.gitlab-ci.yml", False),
    ("repeat\x00github-actions:.github/workflows/ci.yml\x00npm ci", False),
])
def test_repeated_ci_work_variants(anchor, generated):
    way = route("repeated-ci-work", anchor)
    assert bool(way.generate_with) is generated and (way.advice_only is None) is generated


@pytest.fixture(scope="module")
def matrix(acme_template):
    return opportunities(str(acme_template))


def test_every_opportunity_of_the_sample_says_how(matrix):
    for o in matrix.opportunities:
        assert bool(o.generate_with) != bool(o.advice_only), o.id
    advice = [o for o in matrix.opportunities if o.advice_only]
    assert [o.title for o in advice] == ["Run `pip install -e .[dev]` once per 'CI' run"]


def test_both_quick_wins_generate_a_valid_cache(acme, matrix):
    for name in ("zizmor", "check-jsonschema"):
        tool(name)
    quick = [o for o in matrix.opportunities if o.quick_win]
    assert sorted(o.title for o in quick) == ["Cache dependencies in 'CI'", "Cache dependencies in 'Nightly integration'"]
    edits = {}
    for o in quick:
        assert o.generate_with == ["ci-cache"]
        result = generate_automation(acme, "ci-cache", None, opportunity=o.id)
        assert result.valid, [f.model_dump() for r in result.validation for f in r.findings]
        # Nothing the edit added is a finding: every warning is about lines that were already there.
        added = [f for r in result.validation for f in r.findings if not f.message.startswith("existing content")
                 and f.rule != "artipacked"]
        assert added == [], [f.model_dump() for f in added]
        [artifact] = result.artifacts
        assert artifact.action == "edit"
        before = (acme / artifact.path).read_text()
        apply_automation(acme, "ci-cache", None, result.plan.plan_hash, opportunity=o.id)  # the real Writer
        edits[artifact.path] = before, (acme / artifact.path).read_text()
    ci_before, ci = edits[".github/workflows/ci.yml"]
    nightly_before, nightly = edits[".github/workflows/nightly.yml"]
    ci_after = yaml.safe_load(ci)
    setup = [s for s in ci_after["jobs"]["test"]["steps"] if s.get("uses", "").startswith("actions/setup-python")]
    # pip without a requirements file: setup-python needs the file to key the cache on (pyproject.toml).
    assert setup[0]["with"] == {"cache": "pip", "cache-dependency-path": "pyproject.toml",
                                "python-version": "${{ matrix.python }}"}
    assert ci_after["jobs"]["lint"] == yaml.safe_load(ci_before)["jobs"]["lint"]  # already cached: untouched
    nightly_after = yaml.safe_load(nightly)
    steps = nightly_after["jobs"]["integration"]["steps"]
    cache = steps[1]
    assert cache["uses"].startswith("actions/cache@") and len(cache["uses"].split("@")[1]) == 40
    assert cache["with"]["path"] == "~/.cache/pip" and "hashFiles('pyproject.toml')" in cache["with"]["key"]
    assert steps[2] == {"run": "pip install -e '.[dev]'"}
    # Only lines were added: every line of the old file is still there, in order.
    for before, after in ((ci_before, ci), (nightly_before, nightly)):
        it = iter(after.splitlines())
        assert all(line in it for line in before.splitlines())


def test_advice_only_opportunity_exits_2_naming_why(acme_template, matrix):
    [advice] = [o for o in matrix.opportunities if o.advice_only]
    proc = subprocess.run([sys.executable, "-m", "orchestrator_kit", "generate", "github-workflow",
                           "--from-opportunity", advice.id, "-C", str(acme_template)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert f"Opportunity {advice.id}" in proc.stderr and "is advice only" in proc.stderr
    assert "composite action" in proc.stderr and "Traceback" not in proc.stderr


def test_a_tag_workflow_gets_no_cache(acme_template):
    from orchestrator_kit.errors import InputError

    with pytest.raises(InputError, match="runs on tags or releases"):
        generate_automation(acme_template, "ci-cache", {"file": ".github/workflows/release.yml", "jobs": ["publish"]})
    with pytest.raises(InputError, match="already caches"):
        generate_automation(acme_template, "ci-cache", {"file": ".github/workflows/ci.yml", "jobs": ["lint"]})
    with pytest.raises(InputError, match="is not in"):
        generate_automation(acme_template, "ci-cache", {"file": ".github/workflows/ci.yml", "jobs": ["nope"]})
    with pytest.raises(InputError, match="Invalid ci-cache spec"):
        generate_automation(acme_template, "ci-cache", {"file": "../x.yml", "jobs": ["$(id)"]})
    with pytest.raises(InputError, match="not a GitHub workflow"):
        generate_automation(acme_template, "ci-cache", {"file": "Makefile", "jobs": ["a" * 99]})
