"""How often a candidate's work happens a year, with bounds and the basis a person can check.

* From git (`Rates`): a count n of events in the history window of W days is annualized as n x 365 / W, with
  bounds from `scoring.poisson_bounds`; windows shorter than the settings' `min_window_days` are not annualized
  (the assumption applies, and says so). Release events are the releases of the product's series that the DORA
  proxies chose (see `metrics.dora`); failed releases are the change-failure proxy's.
* A pipeline's runs (`pipeline_frequency`): the sum over its triggers of what `metrics.triggers` counted (git
  counts annualized over their own window; cron firing times as they are; a reusable workflow's runs are its
  callers'); manual and API triggers are unknown to git and add nothing, and a pipeline with nothing else is
  an assumption (`manual_runs_per_year`). A manual gate's runs are the runs its condition lets through.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..config import OpportunitySettings
from ..metrics.models import Estimate, HistoryMetrics, PipelineRuns, TriggerRuns
from .scoring import assumed, poisson_bounds

DAYS_PER_YEAR = 365.0


@dataclass(frozen=True)
class Rates:
    """Counts from the history window and the factor that annualizes them (None: no usable window)."""

    window_days: float | None
    counts: dict[str, int]
    per_year_factor: float | None
    query: str | None
    series: str | None = None

    @classmethod
    def from_history(cls, history: HistoryMetrics | None, settings: OpportunitySettings) -> Rates:
        if history is None or not history.available or not history.window_days:
            return cls(None, {}, None, None)
        dora = history.dora
        counts = {"commits": history.commits}
        if dora.deployment_frequency.source == "release-tags":
            counts["release tags"] = len(dora.releases)
            counts["patch releases"] = sum(1 for r in dora.releases if r.patch_release)
            counts["failed releases (change-failure proxy)"] = dora.change_failure.failed
        days = history.window_days
        factor = DAYS_PER_YEAR / days if days >= settings.min_window_days else None
        return cls(days, counts, factor, history.query, dora.series.chosen if dora.series else None)

    def estimate(self, what: str, meaning: str, fallback: float, fallback_text: str,
                 settings: OpportunitySettings) -> Estimate:
        """`what` a year from git when the window allows, else the assumption."""
        if self.per_year_factor is not None and self.counts.get(what) == 0:
            ceiling = 3 * self.per_year_factor
            value = min(fallback, ceiling)
            return Estimate(value=round(value, 2), low=0.0, high=round(ceiling, 2), assumption=True,
                            window_days=self.window_days,
                            basis=f"git: no {what} in {self.window_days:g} days, so at most 3 x 365 / "
                                  f"{self.window_days:g} = {ceiling:.1f} a year (rule of three); expected: the "
                                  f"assumption of {fallback_text}, capped there")
        if self.per_year_factor is not None and what in self.counts:
            count = self.counts[what]
            low, high = poisson_bounds(count)
            factor = self.per_year_factor
            series = f" of series '{self.series or '(root)'}'" if self.series is not None and "release" in what else ""
            return Estimate(value=round(count * factor, 2), low=round(low * factor, 2), high=round(high * factor, 2),
                            assumption=False, window_days=self.window_days,
                            basis=f"git: {count} {what}{series} in {self.window_days:g} days of history x 365 / "
                                  f"{self.window_days:g} ({meaning}); bounds {count} -/+ 2 sqrt({count})")
        why = "no usable history window" if self.window_days is None else \
            f"only {self.window_days:g} days of history" if self.per_year_factor is None else f"no {what} in git"
        return assumed(fallback, f"{fallback_text} ({why})", settings)

    @property
    def commits(self) -> float | None:
        return self.counts["commits"] * self.per_year_factor if self.per_year_factor and self.counts else None


def _trigger_estimate(trigger: TriggerRuns, settings: OpportunitySettings
                      ) -> tuple[float, float, float, str] | None:
    """(low, expected, high, basis) a year for one counted trigger, None when it is not counted."""
    if trigger.measure == "cron" and trigger.expected is not None:
        value = trigger.expected
        return value, value, value, f"{trigger.event}: {trigger.basis}"
    if trigger.measure != "git" or trigger.expected is None or not trigger.window_days:
        return None
    if trigger.window_days < settings.min_window_days:
        return None
    factor = DAYS_PER_YEAR / trigger.window_days
    expected = trigger.expected * factor
    low = (trigger.low if trigger.low is not None else trigger.expected) * factor
    if trigger.high is not None:
        high = trigger.high * factor
        extra = ""
    else:
        high = expected * settings.high_factor
        extra = f"; high = expected x {settings.high_factor:g} (assumption: runs git cannot see)"
    return low, expected, high, (f"{trigger.event}: {trigger.basis}{extra}; x 365 / {trigger.window_days:g} "
                                 f"days = {expected:.1f}/year")


def not_counted(triggers: list[TriggerRuns], settings: OpportunitySettings) -> str:
    """Why some triggers add nothing: git does not record them, or their window is too short to annualize."""
    unknown = sorted({t.event for t in triggers if t.measure == "unknown"})
    short = [t for t in triggers if t.measure == "git" and t.expected is not None
             and (not t.window_days or t.window_days < settings.min_window_days)]
    parts = []
    if unknown:
        parts.append(f"{', '.join(unknown)} (git does not record these runs)")
    if short:
        parts.append("; ".join(f"{t.event} ({t.expected:g} in {t.window_days or 0:g} days of history: under "
                               f"{settings.min_window_days:g} days, not annualized)" for t in short))
    return "; ".join(parts)


def combine(triggers: list[TriggerRuns], settings: OpportunitySettings, extra: list[tuple[float, float, float, str]]
            | None = None, what: str = "runs") -> Estimate | None:
    """The sum of the counted triggers (and `extra` terms), or None when none is counted."""
    parts = [p for p in (_trigger_estimate(t, settings) for t in triggers) if p is not None] + list(extra or [])
    if not parts:
        return None
    low = sum(p[0] for p in parts)
    value = sum(p[1] for p in parts)
    high = sum(p[2] for p in parts)
    basis = "; ".join(p[3] for p in parts)
    missing = not_counted(triggers, settings)
    if missing:
        basis += f"; not counted: {missing}"
    windows = [t.window_days for t in triggers if t.measure == "git" and t.window_days]
    return Estimate(value=round(value, 2), low=round(low, 2), high=round(high, 2), basis=basis, assumption=False,
                    window_days=max(windows) if windows else None)


def pipeline_frequency(pipeline_id: str, runs: Mapping[str, PipelineRuns], rates: Rates,
                       settings: OpportunitySettings, _seen: frozenset[str] = frozenset()) -> Estimate:
    """Runs a year of one pipeline (see the module docstring)."""
    entry = runs.get(pipeline_id)
    if entry is None:
        if rates.commits is not None:
            low, high = poisson_bounds(rates.counts["commits"])
            factor = rates.per_year_factor or 0.0
            return Estimate(value=round(rates.commits, 2), low=round(low * factor, 2), high=round(high * factor, 2),
                            assumption=True, window_days=rates.window_days,
                            basis=f"assumption: one run per commit ({rates.counts['commits']} commits in "
                                  f"{rates.window_days:g} days); the triggers were not counted")
        return assumed(settings.pushes_per_year, f"{settings.pushes_per_year:g} runs a year (no git history to "
                                                 "count triggers from)", settings)
    extra: list[tuple[float, float, float, str]] = []
    for caller in entry.called_by:
        if caller in _seen or caller == pipeline_id:
            continue
        called = pipeline_frequency(caller, runs, rates, settings, _seen | {pipeline_id})
        extra.append((called.low, called.value, called.high, f"called by {caller}: {called.value:g}/year"))
    counted = combine(entry.triggers, settings, extra)
    if counted is not None:
        return counted
    missing = not_counted(entry.triggers, settings) or "no trigger"
    if any(t.measure == "git" for t in entry.triggers):
        return assumed(settings.pushes_per_year, f"{settings.pushes_per_year:g} runs a year; not counted: {missing}",
                       settings)
    return assumed(settings.manual_runs_per_year, f"{settings.manual_runs_per_year:g} runs a year; not counted: "
                                                  f"{missing}", settings)


def gate_frequency(pipeline_id: str, job: str, runs: Mapping[str, PipelineRuns], rates: Rates,
                   settings: OpportunitySettings) -> Estimate:
    """Runs a year that reach a gated job: the triggers its condition lets through (metrics.triggers)."""
    entry = runs.get(pipeline_id)
    gate = next((g for g in entry.gates if g.job == job), None) if entry else None
    if gate is None:
        return pipeline_frequency(pipeline_id, runs, rates, settings)
    counted = combine(gate.triggers, settings)
    if counted is not None:
        return counted.model_copy(update={"basis": f"runs that reach '{job}' ({gate.basis}): {counted.basis}"})
    if not gate.triggers:
        return assumed(settings.manual_runs_per_year, f"{settings.manual_runs_per_year:g} runs a year reach "
                                                      f"'{job}' ({gate.basis}; no trigger lets runs through)", settings)
    git = [t for t in gate.triggers if t.measure == "git"]
    fallback = settings.manual_runs_per_year if not git else settings.release_runs_per_year if all(
        t.kind in ("tag", "release") for t in git) else settings.pushes_per_year
    return assumed(fallback, f"{fallback:g} runs a year reach '{job}' ({gate.basis}); not counted: "
                             f"{not_counted(gate.triggers, settings)}", settings)
