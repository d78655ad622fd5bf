"""Budgets of a run: turns, tokens and estimated cost. A run stops cleanly at the first limit it reaches.

A turn is one answer of the model (one Messages API response). The token total is input + output + cache writes +
cache reads over all turns; the cost is the estimate of `settings.Usage` (prices of `prices.json`). Limits are checked
after each turn (its tool calls included), so a run never starts a turn once a limit is reached; a single turn can
take the totals past a token or cost limit by at most that turn's usage.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from .settings import Usage


class Limits(BaseModel):
    max_turns: int | None = Field(default=None, ge=1)
    max_tokens_total: int | None = Field(default=None, ge=1)
    max_cost_usd: float | None = Field(default=None, gt=0)


class BudgetStop(BaseModel):
    """Which budget stopped the run, and the numbers."""

    budget: str = Field(description="max-turns, max-tokens-total or max-cost-usd (the CLI option's name).")
    limit: float
    used: float

    def describe(self) -> str:
        unit = {"max-turns": "turns", "max-tokens-total": "tokens", "max-cost-usd": "USD (estimate)"}[self.budget]
        used = f"{self.used:.4f}" if self.budget == "max-cost-usd" else f"{int(self.used):,}"
        limit = f"{self.limit:.4f}" if self.budget == "max-cost-usd" else f"{int(self.limit):,}"
        return f"budget {self.budget} reached: {used} of {limit} {unit}"


def exceeded(limits: Limits, turns: int, usage: Usage) -> BudgetStop | None:
    """The first budget that `turns` and `usage` have reached, or None."""
    if limits.max_turns is not None and turns >= limits.max_turns:
        return BudgetStop(budget="max-turns", limit=limits.max_turns, used=turns)
    if limits.max_tokens_total is not None and usage.total >= limits.max_tokens_total:
        return BudgetStop(budget="max-tokens-total", limit=limits.max_tokens_total, used=usage.total)
    if limits.max_cost_usd is not None and usage.cost_usd >= limits.max_cost_usd:
        return BudgetStop(budget="max-cost-usd", limit=limits.max_cost_usd, used=usage.cost_usd)
    return None
