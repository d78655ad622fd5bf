"""The results of an agent eval, read from inspect-ai's logs: per case (and, offline, per scripted variant) the
pass rate of each grader, pass@k and pass^k of `all` (every grader passing), tokens and cost; as a rich table, JSON
and Markdown; compared with a previous run; and, for the scripted run, the offline proof.

With n epochs of a case and c of them passing every grader:

    pass@k = 1 - C(n - c, k) / C(n, k)   the chance that at least one of k tries passes (Chen et al. 2021)
    pass^k = C(c, k) / C(n, k)           the chance that all k tries pass (Yao et al. 2024)

which are the estimators of inspect's `pass_at` and `pass_k` reducers (the logs carry those too).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from .cases import CATCHES
from .scripted import GOOD

if TYPE_CHECKING:
    from inspect_ai.log import EvalLog
    from rich.console import Console

GRADER_ORDER = ("findings", "quick_wins", "design", "grounding", "safety", "writes", "structure")


class CaseResult(BaseModel):
    case: str
    variant: str = GOOD
    agent: str
    epochs: int
    passed: int = Field(description="Epochs in which every grader passed.")
    graders: dict[str, float] = Field(description="Pass rate of each grader over the epochs.")
    explanations: dict[str, str] = Field(default_factory=dict, description="Why each grader last failed.")
    pass_at_k: float
    pass_hat_k: float
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    errors: list[str] = Field(default_factory=list)

    @property
    def key(self) -> str:
        return self.case if self.variant == GOOD else f"{self.case}--{self.variant}"


class AgentEvalResults(BaseModel):
    model: str
    epochs: int
    scripted: bool
    logs: list[str]
    cases: list[CaseResult]

    @property
    def total_cost(self) -> float:
        return round(sum(c.cost_usd for c in self.cases), 4)

    @property
    def total_tokens(self) -> int:
        return sum(c.input_tokens + c.output_tokens for c in self.cases)


def pass_at(n: int, c: int, k: int) -> float:
    """1 - C(n-c, k) / C(n, k): at least one of k tries passes."""
    if n < k or k < 1:
        return float("nan")
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def pass_hat(n: int, c: int, k: int) -> float:
    """C(c, k) / C(n, k): all k tries pass."""
    if n < k or k < 1:
        return float("nan")
    return math.comb(c, k) / math.comb(n, k)


def summarize(logs: Iterable[EvalLog], *, model: str, epochs: int, scripted: bool) -> AgentEvalResults:
    """One CaseResult per (case, variant) of the logs' samples (every epoch of it)."""
    groups: dict[tuple[str, str], list[Any]] = {}
    locations = []
    agent_of: dict[str, str] = {}
    for log in logs:
        locations.append(str(log.location))
        for sample in log.samples or []:
            meta = sample.metadata or {}
            key = (str(meta.get("case")), str(meta.get("variant", GOOD)))
            groups.setdefault(key, []).append(sample)
            agent_of[key[0]] = str(meta.get("agent", ""))
    results = []
    for (case, variant), samples in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] != GOOD, kv[0][1])):
        graders: dict[str, list[float]] = {}
        explanations: dict[str, str] = {}
        passed = 0
        tokens_in = tokens_out = 0
        cost = 0.0
        errors = []
        for sample in samples:
            scores = sample.scores or {}
            for name, score in scores.items():
                value = float(score.value) if isinstance(score.value, int | float) else 0.0
                if name != "all":
                    graders.setdefault(name, []).append(value)
                    if value < 1 and score.explanation:
                        explanations[name] = score.explanation
            if "all" in scores and float(scores["all"].value or 0) >= 1:
                passed += 1
            run = (sample.metadata or {}).get("run") or {}
            usage = run.get("usage") or {}
            tokens_in += int(usage.get("input_tokens", 0)) + int(usage.get("cache_read_input_tokens", 0)) \
                + int(usage.get("cache_creation_input_tokens", 0))
            tokens_out += int(usage.get("output_tokens", 0))
            cost += float(usage.get("cost_usd", 0.0))
            if sample.error is not None:
                errors.append(str(sample.error.message).splitlines()[0])
            elif run.get("error"):
                errors.append(str(run["error"]))
        n = len(samples)
        results.append(CaseResult(
            case=case, variant=variant, agent=agent_of.get(case, ""), epochs=n, passed=passed,
            graders={g: round(sum(v) / len(v), 4) for g, v in sorted(graders.items(), key=_order)},
            explanations=explanations, pass_at_k=pass_at(n, passed, epochs), pass_hat_k=pass_hat(n, passed, epochs),
            input_tokens=tokens_in, output_tokens=tokens_out, cost_usd=round(cost, 6), errors=errors,
        ))
    return AgentEvalResults(model=model, epochs=epochs, scripted=scripted, logs=locations, cases=results)


def _order(item: tuple[str, Any]) -> int:
    return GRADER_ORDER.index(item[0]) if item[0] in GRADER_ORDER else len(GRADER_ORDER)


# ---------------------------------------------------------------- the offline proof


class ProofRow(BaseModel):
    case: str
    variant: str
    expected: str = Field(description="'pass' for the good transcript, else the grader that must fail.")
    failed: list[str]
    ok: bool
    why: str


def proof(results: AgentEvalResults) -> list[ProofRow]:
    """The good transcript of each case passes every grader; each bad one fails the grader of its failure mode
    (and only that one, so it fails for the right reason)."""
    rows = []
    for case in results.cases:
        failed = [g for g, v in case.graders.items() if v < 1]
        if case.variant == GOOD:
            ok = not failed and not case.errors
            why = "every grader passes" if ok else "; ".join(case.errors or [case.explanations.get(g, g)
                                                                              for g in failed])
            rows.append(ProofRow(case=case.case, variant=case.variant, expected="pass", failed=failed, ok=ok,
                                 why=why))
            continue
        expected = CATCHES[case.variant]
        ok = failed == [expected] and not case.errors
        why = case.explanations.get(expected, "; ".join(case.errors) or f"{expected} did not fail")
        rows.append(ProofRow(case=case.case, variant=case.variant, expected=expected, failed=failed, ok=ok, why=why))
    return rows


def proof_markdown(rows: list[ProofRow]) -> str:
    lines = ["| Case | Transcript | Must | Graders that failed | Proof | Why |", "|---|---|---|---|---|---|"]
    for row in rows:
        must = "pass every grader" if row.expected == "pass" else f"fail `{row.expected}`"
        failed = ", ".join(f"`{g}`" for g in row.failed) or "none"
        why = row.why.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {row.case} | {row.variant} | {must} | {failed} | {'ok' if row.ok else 'FAILED'} | {why} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- comparison


class Regression(BaseModel):
    case: str
    what: str
    before: float
    after: float


def compare(previous: AgentEvalResults, current: AgentEvalResults, *, tolerance: float = 1e-9) -> list[Regression]:
    """What got worse from `previous` to `current`, case by case: pass@k, pass^k, and each grader's pass rate
    (a case missing now is not a regression; a new case has nothing to compare)."""
    before = {c.key: c for c in previous.cases}
    found = []
    for case in current.cases:
        old = before.get(case.key)
        if old is None:
            continue
        pairs = [("pass@k", old.pass_at_k, case.pass_at_k), ("pass^k", old.pass_hat_k, case.pass_hat_k)]
        pairs += [(f"grader {g}", old.graders[g], v) for g, v in case.graders.items() if g in old.graders]
        for what, a, b in pairs:
            if not (math.isnan(a) or math.isnan(b)) and b < a - tolerance:
                found.append(Regression(case=case.key, what=what, before=a, after=b))
    return found


# ---------------------------------------------------------------- rendering


def _rate(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}"


def render_markdown(results: AgentEvalResults, regressions: list[Regression] | None = None) -> str:
    graders = [g for g in GRADER_ORDER if any(g in c.graders for c in results.cases)]
    k = results.epochs
    head = ["Case", *graders, f"pass@{k}", f"pass^{k}", "tokens", "cost (USD)"]
    lines = [f"# Agent evals: {results.model}, {k} epoch(s){' (scripted)' if results.scripted else ''}", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for case in results.cases:
        cells = [case.key, *(_rate(case.graders[g]) if g in case.graders else "" for g in graders),
                 _rate(case.pass_at_k), _rate(case.pass_hat_k), f"{case.input_tokens + case.output_tokens:,}",
                 f"{case.cost_usd:.4f}"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"Total: {results.total_tokens:,} tokens, {results.total_cost:.4f} USD (an estimate from the "
              "runner's price table). Logs (open with `inspect view`): " + ", ".join(results.logs), ""]
    if regressions is not None:
        lines.append("## Regressions against the previous run" if regressions else "No regression against the "
                     "previous run.")
        lines += [f"- {r.case}: {r.what} {r.before:.2f} -> {r.after:.2f}" for r in regressions]
        lines.append("")
    return "\n".join(lines)


def render_table(results: AgentEvalResults, console: Console, regressions: list[Regression] | None = None, *,
                 wide: bool = False) -> None:
    """The results fitted to the console (see `fit`): the case and pass@k/pass^k always shown, graders that do not
    fit on each row's detail line."""
    from ...fit import Col, print_fitted

    graders = [g for g in GRADER_ORDER if any(g in c.graders for c in results.cases)]
    k = results.epochs
    columns = [Col("case", "id"), *(Col(g, right=True, drop=3 + n) for n, g in enumerate(graders)),
               Col(f"pass@{k}", right=True), Col(f"pass^{k}", right=True), Col("tokens", right=True, drop=2),
               Col("cost USD", right=True, drop=1)]
    print_fitted(console, f"Agent evals: {results.model}, {k} epoch(s)", columns,
                 [[case.key, *(_rate(case.graders[g]) if g in case.graders else "" for g in graders),
                   _rate(case.pass_at_k), _rate(case.pass_hat_k), f"{case.input_tokens + case.output_tokens:,}",
                   f"{case.cost_usd:.4f}"] for case in results.cases], wide=wide)
    console.print(f"Total: {results.total_tokens:,} tokens, {results.total_cost:.4f} USD (estimate). "
                  f"Logs: {', '.join(results.logs)} (inspect view --log-dir <folder>)")
    for r in regressions or []:
        console.print(f"REGRESSION {r.case}: {r.what} {r.before:.2f} -> {r.after:.2f}")
