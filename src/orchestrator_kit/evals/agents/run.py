"""Run the agent evals with inspect-ai: the cases as tasks, the model (a real one, or the scripted mockllm), and the
results read back from the logs. The library entry point of `orchestrator-kit eval agents`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from ...agent.settings import DEFAULT_MODEL
from ...errors import InputError
from .cases import CASES_DIR, load_cases
from .results import AgentEvalResults, summarize

DEFAULT_EVAL_MODEL = f"anthropic/{DEFAULT_MODEL}"
SCRIPTED = "scripted"
MAX_EPOCHS = 50

# inspect's display modes (inspect_ai's own Literal, restated so this module imports inspect only inside the call)
DisplayType = Literal["full", "conversation", "rich", "plain", "log", "none"]


def run_agent_evals(*, model: str = DEFAULT_EVAL_MODEL, epochs: int = 1, only: list[str] | None = None,
                    cases_dir: Path = CASES_DIR, log_dir: Path, max_samples: int | None = None,
                    batch: bool = False, display: DisplayType = "none") -> AgentEvalResults:
    """Every case (or those in `only`) through inspect-ai's `eval`. `model` is an inspect model id
    ("anthropic/claude-...", "openai/...", any provider inspect knows) or "scripted": the offline proof, inspect's
    mockllm playing each case's good and bad transcripts. `batch` sends the model's requests through the provider's
    batch API (Anthropic's Message Batches: half the price, answers within hours)."""
    if not 1 <= epochs <= MAX_EPOCHS:
        raise InputError(f"--epochs must be between 1 and {MAX_EPOCHS}, not {epochs}.")
    if max_samples is not None and max_samples < 1:
        raise InputError(f"--max-samples must be 1 or more, not {max_samples}.")
    scripted = model == SCRIPTED
    if not scripted and model.startswith("anthropic/") and not (
            os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_AUTH_TOKEN")):
        raise InputError("ANTHROPIC_API_KEY is not set: export your key to evaluate against Claude, or use "
                         "--model scripted for the offline proof. Nothing was started.")
    cases = load_cases(cases_dir, only)
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import get_model

    from .scripted import scripted_model_outputs
    from .task import agent_tasks

    eval_model = get_model("mockllm/model", custom_outputs=scripted_model_outputs) if scripted else model
    options: dict[str, Any] = {"batch": True} if batch else {}
    logs = inspect_eval(agent_tasks(cases, scripted=scripted, epochs=epochs), model=eval_model,
                        log_dir=str(log_dir), display=display, max_samples=max_samples or (4 if scripted else None),
                        fail_on_error=False, **options)
    return summarize(logs, model=SCRIPTED if scripted else model, epochs=epochs, scripted=scripted)
