"""The tool suite: score every case, then check each score against the thresholds of one file.

evals/thresholds.yaml:

    recall: 0.95          # per repository and per kind of item (pipelines, jobs, needs, ..., opportunities)
    precision: 0.90
    evidence_lines: 0.90  # share of matched items whose evidence starts on the expected line
    details: 0.90         # share of checked details right (schedule targets, job environments, diagnostic reasons)
    forbidden: 0          # vendored/fixture items, injected instructions reported
    secrets: 0            # planted secrets that appear in any output
    known_failing:        # (repo, check) pairs that fail today, each with the reason; shown, never hidden
      - {repo: hostile, check: procedure, reason: "..."}

A check is a kind of item (its recall and precision), `opportunity`, `history`, `evidence-lines`, `details`,
`forbidden` or `secrets`. Checking every kind of a repository implies its aggregate: recall and precision over
several kinds are mediants of the per-kind ones, so each kind at or above a threshold keeps the whole at or above
it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator

from ..errors import InputError
from ..yamlsrc import YamlError, load_yaml
from .match import Counts
from .score import Rates, RepoScore, ScoreModel
from .truth import ITEM_KINDS, MAX_TRUTH_BYTES

SPECIAL_CHECKS = ("history", "evidence-lines", "details", "forbidden", "secrets")
CHECKS = (*ITEM_KINDS, *SPECIAL_CHECKS)


class KnownFailing(ScoreModel):
    repo: str = Field(min_length=1)
    check: str = Field(min_length=1)
    reason: str = Field(min_length=1)


class Thresholds(ScoreModel):
    recall: float = Field(default=0.95, ge=0, le=1)
    precision: float = Field(default=0.90, ge=0, le=1)
    evidence_lines: float = Field(default=0.90, ge=0, le=1)
    details: float = Field(default=0.90, ge=0, le=1)
    forbidden: int = Field(default=0, ge=0)
    secrets: int = Field(default=0, ge=0)
    known_failing: list[KnownFailing] = Field(default_factory=list)

    @field_validator("known_failing", mode="before")
    @classmethod
    def _empty_list(cls, value: object) -> object:
        return [] if value is None else value  # `known_failing:` with every entry removed

    def known(self, repo: str, check: str) -> KnownFailing | None:
        return next((k for k in self.known_failing if k.repo == repo and k.check == check), None)


class Failure(ScoreModel):
    repo: str
    check: str
    what: str
    known: str | None = Field(default=None, description="The reason it is a known failure, when it is one.")


class SuiteResult(ScoreModel):
    thresholds: Thresholds
    repos: list[RepoScore]
    failures: list[Failure] = Field(default_factory=list)
    total: Rates
    by_detector: dict[str, Rates] = Field(default_factory=dict)
    by_kind: dict[str, Rates] = Field(default_factory=dict)
    status: Literal["pass", "fail"] = "pass"


def load_thresholds(path: str | os.PathLike[str] | None) -> Thresholds:
    """The thresholds file (validated), or the defaults when `path` is None."""
    if path is None:
        return Thresholds()
    file = Path(path)
    try:
        if file.stat().st_size > MAX_TRUTH_BYTES:
            raise InputError(f"Thresholds file '{path}' is too big.")
        data = load_yaml(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"Thresholds file '{path}' cannot be read: {getattr(exc, 'strerror', None) or exc}.") from None
    except YamlError as exc:
        raise InputError(f"{path}: invalid YAML: {exc}") from None
    try:
        thresholds = Thresholds.model_validate(data if data is not None else {})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "(top level)"
        raise InputError(f"{path}: {where}: {first.get('msg', 'invalid')}") from None
    unknown = sorted({k.check for k in thresholds.known_failing} - set(CHECKS))
    if unknown:
        raise InputError(f"{path}: known_failing names unknown check(s) {', '.join(unknown)} "
                         f"(known: {', '.join(CHECKS)}).")
    return thresholds


def check_repo(score: RepoScore, thresholds: Thresholds) -> list[Failure]:
    """Every threshold this repository's score misses, each marked with its known-failing reason if it has one."""
    found: list[tuple[str, str]] = []
    for kind, rates in score.by_kind.items():
        if rates.recall is not None and rates.recall < thresholds.recall:
            found.append((kind, f"{kind} recall {rates.recall:.2f} < {thresholds.recall:.2f}"))
        if rates.precision is not None and rates.precision < thresholds.precision:
            found.append((kind, f"{kind} precision {rates.precision:.2f} < {thresholds.precision:.2f}"))
    if score.evidence_lines is not None and score.evidence_lines < thresholds.evidence_lines:
        found.append(("evidence-lines", f"evidence lines {score.evidence_lines:.2f} < {thresholds.evidence_lines:.2f}"))
    if score.details is not None and score.details < thresholds.details:
        found.append(("details", f"details {score.details:.2f} < {thresholds.details:.2f}"))
    wrong = [fact.name for fact in score.history if not fact.ok]
    if wrong:
        found.append(("history", f"history facts differ: {', '.join(wrong)}"))
    forbidden = score.forbidden + score.forbidden_texts
    if forbidden > thresholds.forbidden:
        found.append(("forbidden", f"{forbidden} forbidden item(s) or text(s) reported"))
    if score.secrets > thresholds.secrets:
        found.append(("secrets", f"{score.secrets} planted secret(s) leaked"))
    failures = []
    for check, what in found:
        known = thresholds.known(score.repo, check)
        failures.append(Failure(repo=score.repo, check=check, what=what, known=known.reason if known else None))
    return failures


def summarize(scores: Sequence[RepoScore], thresholds: Thresholds) -> SuiteResult:
    """Check every repository and add up the counts across them (per detector, per kind and in all)."""
    failures = [failure for score in scores for failure in check_repo(score, thresholds)]
    total = Counts()
    by_detector: dict[str, Counts] = {}
    by_kind: dict[str, Counts] = {}
    for score in scores:
        total = total.add(_counts(score.discovery))
        _add_all(by_detector, score.by_detector.items())
        _add_all(by_kind, score.by_kind.items())
    return SuiteResult(
        thresholds=thresholds, repos=list(scores), failures=failures, total=Rates.of(total),
        by_detector={k: Rates.of(v) for k, v in sorted(by_detector.items())},
        by_kind={k: Rates.of(v) for k, v in sorted(by_kind.items())},
        status="fail" if any(f.known is None for f in failures) else "pass",
    )


def case_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Truth files named directly or found (`*.yaml`, sorted) in the folders named."""
    files: list[Path] = []
    for path in paths:
        item = Path(path)
        if item.is_dir():
            files.extend(sorted(item.glob("*.yaml")))
        elif item.is_file():
            files.append(item)
        else:
            raise InputError(f"Case '{path}' is neither a truth file nor a folder of them.")
    if not files:
        raise InputError("No truth files to run (a case is evals/cases/<repo>.yaml).")
    return files


def run_suite(
    cases: Sequence[str | os.PathLike[str]], thresholds: Thresholds, workdir: str | os.PathLike[str] | None = None,
    *, progress: Callable[[int, int], None] | None = None,
) -> SuiteResult:
    """Build, scan and score every case, then check the thresholds. `progress(done, total)` after each case."""
    from .run import score_sample

    files = case_files(cases)
    scores = []
    for file in files:
        scores.append(score_sample(file, workdir))
        if progress is not None:
            progress(len(scores), len(files))
    return summarize(scores, thresholds)


def _counts(rates: Rates) -> Counts:
    return Counts(tp=rates.tp, fp=rates.fp, fn=rates.fn)


def _add_all(table: dict[str, Counts], items: Iterable[tuple[str, Rates]]) -> None:
    for name, rates in items:
        table[name] = table.get(name, Counts()).add(_counts(rates))
