"""Scores with bounds: every number of an opportunity is an expected value with a low and a high bound.

* hours saved a year = frequency x duration / 60 x potential, at the expected values; the low bound uses the low
  frequency and the low duration, the high bound the high ones (the potential is a stated share);
* effort = effort hours per complexity point x complexity; payback = effort / (hours a year / 12);
* priority and quick win are decided on the EXPECTED value; `priority_basis` shows the payback at the bounds, so
  a reader sees when the ranking would change;
* person hours and CI hours are two columns: an opportunity fills the one it saves (`saves`).

An assumed number's bounds are the settings' `low_factor` and `high_factor` times it; a count from git is
bounded by n - 2 sqrt(n) and n + 2 sqrt(n) (a Poisson count's approximate 95% range; 0 and 3 when n = 0, the
rule of three).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..config import OpportunitySettings
from ..metrics.models import Estimate, Explanation, ExplanationInput, Opportunity, OpportunityKind
from ..models import Evidence
from .routes import route

PRODUCTION = re.compile(r"\bprod(?:uction)?\b", re.IGNORECASE)
DESTRUCTIVE = re.compile(
    r"pg_restore|--clean\b|\bdrop\s|\bdelete\b|\brm\s+-[a-z]*r|truncate|destroy|--force\b|\s-f\s|"
    r"--replicas=0|rollout\s+undo|\brestore\b", re.IGNORECASE)
REMOTE = re.compile(r"(?:^|\s)(?:ssh|scp|rsync)\s", re.IGNORECASE)
# What a procedure warns cannot be taken back, or a command whose result cannot be withdrawn.
IRREVERSIBLE = re.compile(
    r"cannot be (?:undone|removed|deleted|reverted|re-?used|changed|unpublished)|can(?:no|')t be (?:undone|removed|"
    r"deleted|reverted|re-?used|unpublished)|irreversib|permanent(?:ly)?\b|no way back|do not re-?use|never "
    r"(?:delete|re-?use|move|re-?tag)|immutable|git[ \t]+push[ \t]+(?:[^\s]+[ \t]+)*--tags|"
    r"git[ \t]+push[ \t]+[^\s]+[ \t]+v?\d|npm[ \t]+publish|twine[ \t]+upload|cargo[ \t]+publish|gem[ \t]+push|"
    r"gh[ \t]+release[ \t]+create", re.IGNORECASE)
# The one definition of a quick win (the prompts, the templates and the tool descriptions quote these numbers; a
# test reads them from here).
QUICK_WIN_MAX_EFFORT_HOURS = 4
QUICK_WIN_MAX_RISK = 2
QUICK_WIN_MAX_PAYBACK_MONTHS = 12
QUICK_WIN_RULE = (f"effort_hours <= {QUICK_WIN_MAX_EFFORT_HOURS} and risk <= {QUICK_WIN_MAX_RISK} and expected "
                  f"payback <= {QUICK_WIN_MAX_PAYBACK_MONTHS} months")


def assumed(value: float, text: str, settings: OpportunitySettings) -> Estimate:
    """An assumed number, bounded by the settings' factors."""
    return Estimate(value=round(value, 2), low=round(value * settings.low_factor, 2),
                    high=round(value * settings.high_factor, 2), assumption=True,
                    basis=f"assumption: {text} (bounds x{settings.low_factor:g} .. x{settings.high_factor:g})")


def poisson_bounds(count: int) -> tuple[float, float]:
    """(low, high) of a count of events: n -/+ 2 sqrt(n), and (0, 3) for no event."""
    if count <= 0:
        return 0.0, 3.0
    spread = 2 * math.sqrt(count)
    return max(0.0, count - spread), count + spread


def fixed(value: float, text: str, assumption: bool = True) -> Estimate:
    """A number without spread (e.g. computed from a cron, or a sum of stated per-step minutes)."""
    return Estimate(value=round(value, 2), low=round(value, 2), high=round(value, 2), basis=text,
                    assumption=assumption)


def risk_of(texts: Iterable[str]) -> tuple[int, str]:
    """1 + production (+1) + destructive commands (+2) + remote shell (+1) + irreversible steps (+1), 1..5."""
    joined = "\n".join(texts)
    reasons = []
    value = 1
    if PRODUCTION.search(joined):
        value += 1
        reasons.append("touches production (+1)")
    if DESTRUCTIVE.search(joined):
        value += 2
        reasons.append("destructive or restoring commands (+2)")
    if REMOTE.search(joined):
        value += 1
        reasons.append("remote shell access (+1)")
    irreversible = IRREVERSIBLE.search(joined)
    if irreversible:
        value += 1
        reasons.append(f"irreversible step: '{' '.join(irreversible.group(0).split())[:80]}' (+1)")
    return clamp(value), "1 base" + "".join(f", {r}" for r in reasons)


def clamp(value: float, low: int = 1, high: int = 5) -> int:
    return int(max(low, min(high, value)))


@dataclass
class Candidate:
    """What a candidate finder knows before scoring."""

    kind: OpportunityKind
    anchor: str
    title: str
    why: str
    suggestion: str
    frequency: Estimate
    duration: Estimate
    complexity: int
    complexity_basis: str
    potential: float
    potential_basis: str
    risk: int
    risk_basis: str
    saves: str
    evidence: list[Evidence]
    git_query: str | None = None
    related: list[str] = field(default_factory=list)


def opportunity_id(kind: str, anchor: str) -> str:
    """opp-<first 10 hex of sha1(kind NUL anchor)>: the same candidate gets the same id on every run."""
    import hashlib

    return "opp-" + hashlib.sha1(f"{kind}\x00{anchor}".encode()).hexdigest()[:10]  # noqa: S324 - an id


def _payback(effort: float, hours: float) -> float | None:
    return effort / (hours / 12) if hours > 0 else None


def _months(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f} months"


def priority_of(payback: float | None, risk: int, potential: float) -> str:
    priority = "high" if payback is not None and payback <= 6 else \
        "medium" if payback is not None and payback <= 18 else "low"
    if priority == "low" and risk >= 4 and potential >= 0.5:
        priority = "medium"
    return priority


def score(candidate: Candidate, settings: OpportunitySettings) -> Opportunity:
    """An Opportunity with hours (and bounds), effort, payback, priority, quick win and the explanation."""
    c = candidate
    f, d, p = c.frequency, c.duration, c.potential
    hours = f.value * d.value / 60 * p
    low = f.low * d.low / 60 * p
    high = f.high * d.high / 60 * p
    effort = settings.effort_hours_per_complexity * c.complexity
    payback = _payback(effort, hours)
    priority = priority_of(payback, c.risk, p)
    priority_basis = (f"payback {_months(payback)} on the expected {hours:.2f} h/year; "
                      f"{_months(_payback(effort, high))} .. {_months(_payback(effort, low))} over the bounds "
                      f"({low:.2f} .. {high:.2f} h/year)")
    if priority_of(_payback(effort, low), c.risk, p) != priority or \
            priority_of(_payback(effort, high), c.risk, p) != priority:
        priority_basis += f"; the priority would be {priority_of(_payback(effort, low), c.risk, p)} at the low " \
                          f"bound and {priority_of(_payback(effort, high), c.risk, p)} at the high bound"
    quick = effort <= QUICK_WIN_MAX_EFFORT_HOURS and c.risk <= QUICK_WIN_MAX_RISK and payback is not None \
        and payback <= QUICK_WIN_MAX_PAYBACK_MONTHS
    unit = "CI hours" if c.saves == "ci-time" else "person hours"
    explanation = Explanation(
        inputs=[
            ExplanationInput(name="frequency_per_year", value=f.value, low=f.low, high=f.high, basis=f.basis),
            ExplanationInput(name="duration_minutes", value=d.value, low=d.low, high=d.high, basis=d.basis),
            ExplanationInput(name="automation_potential", value=round(p, 2), basis=c.potential_basis),
            ExplanationInput(name="complexity", value=c.complexity, basis=c.complexity_basis),
            ExplanationInput(name="effort_hours_per_complexity", value=settings.effort_hours_per_complexity,
                             basis="setting (assumption)"),
            ExplanationInput(name="risk", value=c.risk, basis=c.risk_basis),
        ],
        formula="hours = frequency_per_year x duration_minutes / 60 x automation_potential; effort = "
                "effort_hours_per_complexity x complexity; payback = effort / (hours / 12)",
        computation=(f"{f.value:g} x {d.value:g} / 60 x {p:.2f} = {hours:.2f} {unit}/year (low {f.low:g} x "
                     f"{d.low:g} / 60 x {p:.2f} = {low:.2f}; high {f.high:g} x {d.high:g} / 60 x {p:.2f} = "
                     f"{high:.2f}); effort {settings.effort_hours_per_complexity:g} x {c.complexity} = {effort:g} h; "
                     f"payback {_months(payback)}"),
    )
    person = c.saves == "person-time"
    way = route(c.kind, c.anchor)
    return Opportunity(
        id=opportunity_id(c.kind, c.anchor), kind=c.kind, title=c.title, why=c.why, suggestion=c.suggestion,
        frequency_per_year=f, duration_minutes=d, complexity=c.complexity, complexity_basis=c.complexity_basis,
        automation_potential=round(p, 2), potential_basis=c.potential_basis, risk=c.risk, risk_basis=c.risk_basis,
        hours_saved_per_year=round(hours, 2), hours_saved_low=round(low, 2), hours_saved_high=round(high, 2),
        saves=c.saves,  # type: ignore[arg-type]
        person_hours_per_year=round(hours, 2) if person else None,
        ci_hours_per_year=None if person else round(hours, 2),
        effort_hours=effort, payback_months=round(payback, 1) if payback is not None else None,
        priority=priority,  # type: ignore[arg-type]
        priority_score=round(hours / effort, 3) if effort else 0.0, priority_basis=priority_basis,
        quick_win=quick, explanation=explanation, evidence=c.evidence, git_query=c.git_query,
        related=list(c.related), generate_with=list(way.generate_with), advice_only=way.advice_only,
    )
