"""Score what the tools reported on one repository against its truth.

* recall and precision per kind, per detector and for the repository (`discovery`: every inventory kind;
  `opportunities` apart), from `match.match_items`;
* evidence-line accuracy = matched items whose evidence starts on the expected line / matched items whose truth
  gives a line;
* detail accuracy = matched schedules (diagnostics, jobs) whose target (reason, environment) contains the
  expected text / those matched with an expected text;
* history facts, compared exactly (commits, merges, author names, tags, reverts, coupled pairs), and each hotspot
  the spec builds among the first HOTSPOT_RANK reported (score = revisions x lines);
* forbidden items (found items under a forbidden path), forbidden texts (injected instructions appearing in an
  output) and leaked secrets (a planted value appearing in any output): each must be 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from ..metrics.models import HistoryMetrics, OpportunityMatrix
from ..models import Inventory
from .items import expected_items, found_items
from .match import Counts, Matching, match_items
from .truth import HOTSPOT_RANK, HistoryTruth, Truth


class ScoreModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Fact(ScoreModel):
    name: str
    expected: str
    found: str
    ok: bool


class Problem(ScoreModel):
    """One miss, false positive, wrong line, forbidden item, forbidden text or leaked secret, for people to read."""

    check: str
    kind: str
    detector: str = ""
    what: str


class Rates(ScoreModel):
    tp: int
    fp: int
    fn: int
    recall: float | None
    precision: float | None

    @classmethod
    def of(cls, counts: Counts) -> Rates:
        return cls(tp=counts.tp, fp=counts.fp, fn=counts.fn, recall=_round(counts.recall),
                   precision=_round(counts.precision))


class RepoScore(ScoreModel):
    repo: str
    discovery: Rates
    opportunities: Rates
    by_kind: dict[str, Rates] = Field(default_factory=dict)
    by_detector: dict[str, Rates] = Field(default_factory=dict)
    evidence_lines: float | None = None
    evidence_lines_checked: int = 0
    details: float | None = None
    history: list[Fact] = Field(default_factory=list)
    forbidden: int = 0
    forbidden_texts: int = 0
    secrets: int = 0
    problems: list[Problem] = Field(default_factory=list)


@dataclass(frozen=True)
class Outputs:
    """What the tools said about one repository: the inventory, the history metrics and the opportunity matrix."""

    inventory: Inventory
    history: HistoryMetrics | None = None
    matrix: OpportunityMatrix | None = None

    def texts(self) -> dict[str, str]:
        """Each output as the JSON a user or an agent would get."""
        return {
            "inventory": self.inventory.model_dump_json(),
            "metrics": self.history.model_dump_json() if self.history else "",
            "opportunities": self.matrix.model_dump_json() if self.matrix else "",
        }


def score_repo(truth: Truth, outputs: Outputs) -> RepoScore:
    """All the scores of one repository (see the module docstring)."""
    expected = expected_items(truth)
    found = found_items(outputs.inventory, outputs.matrix)
    matching = match_items(expected, found, truth.forbidden.items)
    by_kind = matching.counts("kind")
    discovery = Counts()
    for kind, counts in by_kind.items():
        if kind != "opportunity":
            discovery = discovery.add(counts)
    problems = _match_problems(matching)
    lines_ok, lines_checked, details_ok, details_checked = _accuracy(matching, problems)
    texts = outputs.texts()
    forbidden_texts = 0
    for rule in truth.forbidden.texts:
        for scope in rule.scope:
            if rule.text.casefold() in texts[scope].casefold():
                forbidden_texts += 1
                problems.append(Problem(check="forbidden-text", kind=scope, what=f"{rule.text!r} ({rule.reason})"))
    secrets = 0
    for secret in truth.forbidden.secrets:
        leaked = [scope for scope, text in texts.items() if secret in text]
        if leaked:
            secrets += 1
            problems.append(Problem(check="secret", kind=",".join(leaked),
                                    what=f"planted secret {secret[:4]}... appears in {', '.join(leaked)}"))
    history = history_facts(truth.history, outputs.history) if truth.history else []
    problems.extend(Problem(check="history", kind="history", what=f"{f.name}: expected {f.expected}, found {f.found}")
                    for f in history if not f.ok)
    return RepoScore(
        repo=truth.repo, discovery=Rates.of(discovery), opportunities=Rates.of(by_kind.get("opportunity", Counts())),
        by_kind={k: Rates.of(v) for k, v in sorted(by_kind.items())},
        by_detector={k: Rates.of(v) for k, v in sorted(matching.counts("detector").items())},
        evidence_lines=_round(lines_ok / lines_checked) if lines_checked else None,
        evidence_lines_checked=lines_checked,
        details=_round(details_ok / details_checked) if details_checked else None, history=history,
        forbidden=len(matching.forbidden), forbidden_texts=forbidden_texts, secrets=secrets, problems=problems,
    )


def history_facts(truth: HistoryTruth, found: HistoryMetrics | None) -> list[Fact]:
    """Each history fact of the truth against what the history metrics say (no history at all: all wrong)."""
    if found is None or not found.available:
        return [Fact(name="history", expected="available", found="none", ok=False)]
    names = sorted({a.name for a in found.authors.top})
    if found.authors.total != len(names):
        names.append(f"... ({found.authors.total} in all)")
    tags = sorted([r.name for r in found.dora.releases] + [t.name for t in found.dora.skipped_tags])
    pairs = [
        ("commits", str(truth.commits), str(found.commits)),
        ("merges", str(truth.merges), str(found.merges)),
        ("authors", ", ".join(sorted(truth.authors)), ", ".join(names)),
        ("tags", ", ".join(sorted(truth.tags)), ", ".join(tags)),
        ("reverts", str(truth.reverts), str(len(found.dora.reverts))),
    ]
    facts = [Fact(name=n, expected=e, found=f, ok=e == f) for n, e, f in pairs]
    top = [h.path for h in found.hotspots.items[:HOTSPOT_RANK]]
    facts += [Fact(name="hotspot", expected=f"{path} in the first {HOTSPOT_RANK}", found=", ".join(top) or "none",
                   ok=path in top) for path in truth.hotspots]
    if truth.coupled is not None:
        expected = sorted(" <-> ".join(sorted(pair)) for pair in truth.coupled)
        reported = sorted(" <-> ".join(sorted((p.path, p.coupled))) for p in found.coupling.pairs)
        facts.append(Fact(name="coupled", expected="; ".join(expected) or "none",
                          found="; ".join(reported) or "none", ok=expected == reported))
    return facts


def _match_problems(matching: Matching) -> list[Problem]:
    problems = [Problem(check="miss", kind=i.kind, detector=i.detector, what=i.label) for i in matching.misses]
    problems += [Problem(check="false-positive", kind=i.kind, detector=i.detector, what=i.label)
                 for i in matching.false_positives]
    problems += [Problem(check="forbidden", kind=i.kind, detector=i.detector, what=f"{i.label}: {rule.reason}")
                 for i, rule in matching.forbidden]
    return problems


def _accuracy(matching: Matching, problems: list[Problem]) -> tuple[int, int, int, int]:
    lines_ok = lines_checked = details_ok = details_checked = 0
    for expected, found in matching.pairs:
        if expected.line is not None:
            lines_checked += 1
            if found.line == expected.line:
                lines_ok += 1
            else:
                problems.append(Problem(check="evidence-line", kind=expected.kind, detector=expected.detector,
                                        what=f"{expected.label}: reported at line {found.line}"))
        if expected.kind in ("schedule", "diagnostic", "job") and expected.detail:
            details_checked += 1
            if expected.detail.casefold() in (found.detail or "").casefold():
                details_ok += 1
            else:
                problems.append(Problem(check="detail", kind=expected.kind, detector=expected.detector,
                                        what=f"{expected.label}: {found.detail!r} lacks {expected.detail!r}"))
    return lines_ok, lines_checked, details_ok, details_checked


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
