"""The runner's model setting and the price table beside it (`prices.json`, dated, in USD per million tokens).

The model comes from `--model`, else `ORCHESTRATOR_KIT_MODEL`, else `DEFAULT_MODEL`: a current model id that the
installed anthropic SDK does not list as deprecated (a test checks that). The endpoint is the SDK's own setting
(`ANTHROPIC_BASE_URL`), and so is the key (`ANTHROPIC_API_KEY`).

Cost (an estimate) = (input x price_input + output x price_output + cache writes x price_cache_write
+ cache reads x price_cache_read) / 1,000,000, with the prices of `prices.json` as of its `as_of` date.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from importlib import resources

from pydantic import BaseModel

DEFAULT_MODEL = "claude-sonnet-5-5"
MODEL_ENV = "ORCHESTRATOR_KIT_MODEL"
KEY_ENV = "ANTHROPIC_API_KEY"
DEFAULT_MAX_TOKENS = 16_000  # per response: a whole report with diffs, within the SDK's limit for a non-streamed call


def resolve_model(option: str | None = None) -> str:
    """The model id: the option, else the environment variable, else the default."""
    return (option or os.environ.get(MODEL_ENV) or DEFAULT_MODEL).strip()


class Usage(BaseModel):
    """Tokens of one response or of a whole run, and the estimated cost."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def total(self) -> int:
        """All tokens billed: input + output + cache writes + cache reads."""
        return self.input_tokens + self.output_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens

    def plus(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_creation_input_tokens=self.cache_creation_input_tokens + other.cache_creation_input_tokens,
            cache_read_input_tokens=self.cache_read_input_tokens + other.cache_read_input_tokens,
            cost_usd=round(self.cost_usd + other.cost_usd, 6),
        )


@dataclass(frozen=True)
class Price:
    """USD per million tokens."""

    input: float
    output: float
    cache_write: float
    cache_read: float

    def cost(self, usage: Usage) -> float:
        return (usage.input_tokens * self.input + usage.output_tokens * self.output
                + usage.cache_creation_input_tokens * self.cache_write
                + usage.cache_read_input_tokens * self.cache_read) / 1_000_000


@dataclass(frozen=True)
class PriceTable:
    as_of: str
    note: str
    prices: dict[str, Price]

    def price(self, model: str) -> Price | None:
        """The price of `model`, or of the longest listed id it starts with at a '-' (a dated id such as
        claude-haiku-4-5-20251001 has the price of claude-haiku-4-5); None when it is not listed."""
        if model in self.prices:
            return self.prices[model]
        matches = [known for known in self.prices if model.startswith(known + "-")]
        return self.prices[max(matches, key=len)] if matches else None


@cache
def price_table() -> PriceTable:
    data = json.loads(resources.files(__package__).joinpath("prices.json").read_text(encoding="utf-8"))
    prices = {model: Price(*map(float, row)) for model, row in data["models"].items()}
    return PriceTable(as_of=str(data["as_of"]), note=str(data["note"]), prices=prices)


def usage_of(raw: object, model: str) -> Usage:
    """Usage of one SDK response (its `usage` object), priced for `model` (cost 0 when the model has no price)."""
    def count(name: str) -> int:
        value = getattr(raw, name, 0)
        return value if isinstance(value, int) else 0

    usage = Usage(input_tokens=count("input_tokens"), output_tokens=count("output_tokens"),
                  cache_creation_input_tokens=count("cache_creation_input_tokens"),
                  cache_read_input_tokens=count("cache_read_input_tokens"))
    price = price_table().price(model)
    if price is not None:
        usage.cost_usd = round(price.cost(usage), 6)
    return usage
