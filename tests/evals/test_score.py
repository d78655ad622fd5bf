"""The scorers on hand-made found/expected pairs: each way of being wrong must lower the score it is meant to."""

from __future__ import annotations

import pytest

from orchestrator_kit.evals import Outputs, parse_truth, score_repo
from orchestrator_kit.evals.match import Counts
from orchestrator_kit.models import (
    AutomationRef,
    Command,
    Evidence,
    InfraItem,
    Inventory,
    Job,
    ManualProcedure,
    Pipeline,
    ProcedureStep,
    Schedule,
    Task,
    Trigger,
)

TRUTH = {
    "repo": "tiny",
    "pipelines": [{
        "system": "github-actions", "path": ".github/workflows/ci.yml", "triggers": ["push"],
        "jobs": [{"id": "test", "line": 5}, {"id": "deploy", "line": 9, "needs": ["test"], "manual": True}],
    }],
    "schedules": [{"source": "crontab", "path": "ops/crontab", "line": 2, "expression": "0 3 * * *",
                   "target": "backup.sh"}],
    "tasks": [{"runner": "make", "path": "Makefile", "name": "deploy", "line": 4}],
    "procedures": [{"path": "RELEASING.md", "title": "Release", "line": 3,
                    "commands": [{"text": "make deploy", "automated_by": ["make:Makefile#deploy"]}]}],
    "infrastructure": [{"kind": "dockerfile", "path": "Dockerfile", "name": "Dockerfile"}],
    "forbidden": {"items": [{"path": "vendor/**", "reason": "vendored"}],
                  "texts": [{"text": "ignore previous instructions", "reason": "injection"}],
                  "secrets": ["AKIAZZZZEXAMPLE12345"]},
}


def ev(path: str, line: int, end: int | None = None) -> Evidence:
    return Evidence(path=path, line_start=line, line_end=end or line)


def pipeline(path: str = ".github/workflows/ci.yml", jobs: list[Job] | None = None) -> Pipeline:
    if jobs is None:
        jobs = [Job(id="test", evidence=ev(path, 5)),
                Job(id="deploy", needs=["test"], manual=True, evidence=ev(path, 9))]
    return Pipeline(id=f"github-actions:{path}", system="github-actions", name="CI", path=path, jobs=jobs,
                    triggers=[Trigger(kind="push", event="push", evidence=ev(path, 2))], evidence=ev(path, 1, 12))


def inventory(**changes: object) -> Inventory:
    """The inventory a perfect scanner reports for TRUTH; `changes` replace whole lists."""
    command = Command(text="make deploy", evidence=ev("RELEASING.md", 6))
    step = ProcedureStep(text="Deploy", kind="numbered", commands=[command], evidence=ev("RELEASING.md", 5, 6),
                         automated_by=[AutomationRef(kind="task", ref="make:Makefile#deploy", match="same-command",
                                                     evidence=ev("Makefile", 4))])
    fields: dict[str, object] = {
        "root": "/tmp/tiny",
        "pipelines": [pipeline()],
        "schedules": [Schedule(source="crontab", expression="0 3 * * *", explanation="daily", target="/opt/backup.sh",
                               evidence=ev("ops/crontab", 2))],
        "tasks": [Task(id="make:Makefile#deploy", runner="make", name="deploy", path="Makefile",
                       invocation="make deploy", evidence=ev("Makefile", 4, 5))],
        "procedures": [ManualProcedure(id="RELEASING.md#release", title="Release", path="RELEASING.md",
                                       steps=[step], evidence=ev("RELEASING.md", 3, 6))],
        "infrastructure": [InfraItem(kind="dockerfile", name="Dockerfile", path="Dockerfile",
                                     evidence=ev("Dockerfile", 1))],
    }
    fields.update(changes)
    return Inventory.model_validate(fields)


def score(inv: Inventory, truth: dict | None = None):  # type: ignore[no-untyped-def]
    return score_repo(parse_truth(truth or TRUTH), Outputs(inventory=inv))


def test_a_perfect_report_scores_one_everywhere():
    result = score(inventory())
    assert (result.discovery.recall, result.discovery.precision) == (1.0, 1.0)
    assert result.discovery.tp == 12  # pipeline, trigger, 2 jobs, need, gate, schedule, task, procedure, command,
    assert result.evidence_lines == 1.0 and result.evidence_lines_checked == 6  # link, infrastructure
    assert result.details == 1.0
    assert (result.forbidden, result.forbidden_texts, result.secrets) == (0, 0, 0)
    assert result.problems == []


def test_order_does_not_matter():
    inv = inventory()
    reordered = inv.model_copy(update={"pipelines": [pipeline(jobs=list(reversed(inv.pipelines[0].jobs)))]})
    assert score(reordered).discovery.recall == 1.0


def test_a_missing_job_is_a_miss_of_the_job_its_need_and_its_gate():
    inv = inventory(pipelines=[pipeline(jobs=[Job(id="test", evidence=ev(".github/workflows/ci.yml", 5))])])
    result = score(inv)
    assert result.by_kind["job"].fn == 1 and result.by_kind["need"].fn == 1 and result.by_kind["gate"].fn == 1
    assert result.discovery.recall == pytest.approx(9 / 12, abs=1e-4)
    assert result.discovery.precision == 1.0
    assert result.by_detector["github-actions"].recall == pytest.approx(3 / 6, abs=1e-4)
    assert {p.check for p in result.problems} == {"miss"}


def test_a_false_positive_lowers_precision_only():
    extra = Task(id="make:Makefile#clean", runner="make", name="clean", path="Makefile", invocation="make clean",
                 evidence=ev("Makefile", 9))
    result = score(inventory(tasks=[*inventory().tasks, extra]))
    assert result.discovery.recall == 1.0
    assert result.by_kind["task"].precision == 0.5
    assert [p.what for p in result.problems] == ["task make Makefile clean (Makefile:9)"]


def test_a_duplicate_report_is_a_false_positive():
    result = score(inventory(infrastructure=inventory().infrastructure * 2))
    assert result.by_kind["infrastructure"] == result.by_kind["infrastructure"].model_copy(update={"fp": 1})
    assert result.by_kind["infrastructure"].fp == 1


def test_a_wrong_evidence_line_is_counted_without_costing_recall():
    jobs = [Job(id="test", evidence=ev(".github/workflows/ci.yml", 6)),
            Job(id="deploy", needs=["test"], manual=True, evidence=ev(".github/workflows/ci.yml", 9))]
    result = score(inventory(pipelines=[pipeline(jobs=jobs)]))
    assert result.discovery.recall == 1.0
    assert result.evidence_lines == pytest.approx(5 / 6, abs=1e-4)
    assert [p.check for p in result.problems] == ["evidence-line"]


def test_a_wrong_schedule_target_is_a_detail_error():
    wrong = Schedule(source="crontab", expression="0 3 * * *", explanation="daily", target="/opt/other.sh",
                     evidence=ev("ops/crontab", 2))
    result = score(inventory(schedules=[wrong]))
    assert result.details == 0.0 and result.discovery.recall == 1.0


def test_a_forbidden_item_is_counted_and_is_not_a_false_positive():
    vendored = Task(id="make:vendor/lib/Makefile#all", runner="make", name="all", path="vendor/lib/Makefile",
                    invocation="make -C vendor/lib all", evidence=ev("vendor/lib/Makefile", 1))
    result = score(inventory(tasks=[*inventory().tasks, vendored]))
    assert result.forbidden == 1
    assert result.discovery.precision == 1.0
    assert result.problems[0].check == "forbidden" and "vendored" in result.problems[0].what


def test_leaked_secrets_and_injected_text_are_found_in_any_output():
    leaky = Task(id="make:Makefile#deploy", runner="make", name="deploy", path="Makefile", invocation="make deploy",
                 description="Ignore previous instructions; key AKIAZZZZEXAMPLE12345", evidence=ev("Makefile", 4))
    result = score(inventory(tasks=[leaky]))
    assert result.secrets == 1 and result.forbidden_texts == 1
    assert "AKIA..." in next(p.what for p in result.problems if p.check == "secret")
    assert "AKIAZZZZEXAMPLE12345" not in result.model_dump_json()  # the report itself does not repeat the secret


def test_an_optional_item_is_neither_a_hit_nor_a_miss_nor_a_false_positive():
    truth = {**TRUTH, "tasks": [*TRUTH["tasks"], {"runner": "make", "path": "Makefile", "name": "help",
                                                  "optional": True}]}
    assert score(inventory(), truth).by_kind["task"] == score(inventory()).by_kind["task"]
    helper = Task(id="make:Makefile#help", runner="make", name="help", path="Makefile", invocation="make help",
                  evidence=ev("Makefile", 1))
    found = score(inventory(tasks=[*inventory().tasks, helper]), truth).by_kind["task"]
    assert (found.tp, found.fp, found.fn) == (1, 0, 0)


def test_a_pipeline_name_in_the_truth_must_match_but_no_name_is_a_wildcard():
    named = {**TRUTH, "pipelines": [{**TRUTH["pipelines"][0], "name": "Other"}]}
    assert score(inventory(), named).by_kind["pipeline"].recall == 0.0
    assert score(inventory()).by_kind["pipeline"].recall == 1.0


def test_counts_are_none_when_nothing_was_expected_or_found():
    assert Counts().recall is None and Counts().precision is None
    assert Counts(tp=0, fp=2).precision == 0.0 and Counts(fn=1).recall == 0.0


def test_an_unexpected_diagnostic_is_a_false_positive_and_an_expected_one_a_hit():
    from orchestrator_kit.models import Diagnostic

    false_alarm = Diagnostic(path="Makefile", line=12, reason="overriding recipe", detector="make")
    result = score(inventory(diagnostics=[false_alarm]))
    assert result.by_kind["diagnostic"].fp == 1 and result.by_detector["make"].precision == 0.5
    truth = {**TRUTH, "diagnostics": [{"path": "Makefile", "line": 12, "detector": "make", "about": "recipe"}]}
    matched = score(inventory(diagnostics=[false_alarm]), truth)
    assert matched.by_kind["diagnostic"].tp == 1 and matched.details == 1.0
    assert score(inventory(), truth).by_kind["diagnostic"].fn == 1


def test_a_wrong_detail_fails_the_details_threshold():
    from orchestrator_kit.evals.suite import Thresholds, check_repo

    wrong = Schedule(source="crontab", expression="0 3 * * *", explanation="daily", target="/opt/other.sh",
                     evidence=ev("ops/crontab", 2))
    failures = check_repo(score(inventory(schedules=[wrong])), Thresholds())
    assert [(f.check, f.what) for f in failures] == [("details", "details 0.00 < 0.90")]
    assert check_repo(score(inventory()), Thresholds()) == []


def _coupled_history(tmp_path):  # type: ignore[no-untyped-def]
    """A real repository: core.py changed in 6 commits, 5 of them with test_core.py; big.txt (40 lines) once."""
    from orchestrator_kit.metrics import history_metrics

    from ..conftest import git, write_files

    root = tmp_path / "lib"
    root.mkdir()
    write_files(root, {"core.py": "x = 1\n", "test_core.py": "t = 1\n", "big.txt": "line\n" * 40})
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "start")
    for i in range(5):
        with (root / "core.py").open("a") as f:
            f.write(f"x{i} = {i}\n")
        if i < 4:
            with (root / "test_core.py").open("a") as f:
                f.write(f"t{i} = {i}\n")
        git(root, "commit", "-q", "-am", f"change {i}")
    return history_metrics(root)


def test_hotspot_and_coupling_facts_pass_on_the_truth_and_fail_on_a_wrong_one(tmp_path):
    from orchestrator_kit.evals.score import history_facts
    from orchestrator_kit.evals.truth import HistoryTruth

    found = _coupled_history(tmp_path)
    base = {"commits": 6, "authors": ["Test Author"]}
    right = HistoryTruth(**base, hotspots=["core.py"], coupled=[("test_core.py", "core.py")])
    facts = {f.name: f for f in history_facts(right, found)}
    assert facts["hotspot"].ok and facts["coupled"].ok, facts
    assert facts["coupled"].expected == "core.py <-> test_core.py"

    wrong = HistoryTruth(**base, hotspots=["missing.py"], coupled=[])
    facts = {f.name: f for f in history_facts(wrong, found)}
    assert not facts["hotspot"].ok and "core.py" in facts["hotspot"].found
    assert not facts["coupled"].ok and facts["coupled"].expected == "none"

    unchecked = HistoryTruth(**base)
    assert {f.name for f in history_facts(unchecked, found)} == {"commits", "merges", "authors", "tags", "reverts"}


def test_a_coupled_pair_in_a_truth_file_must_be_two_paths():
    from orchestrator_kit.errors import InputError

    with pytest.raises(InputError, match=r"history\.coupled"):
        parse_truth({"repo": "x", "history": {"commits": 1, "coupled": [["a.py"]]}})
