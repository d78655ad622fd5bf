"""The redaction corpus (redaction_corpus.yaml) and how redaction is measured on it.

recall    = secret samples whose every `hide` value is gone / secret samples
precision = secret samples redacted / (secret samples redacted + look-alike samples changed by redaction)
intact    = look-alike samples left unchanged / look-alike samples

A value is gone when it does not appear in the redacted text and, for values of 16 or more characters, no
10-character piece of it does either (a half-hidden key still leaks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from orchestrator_kit.redaction import redact_text

CORPUS = Path(__file__).with_name("redaction_corpus.yaml")


@dataclass
class Score:
    secrets: int = 0
    hidden: int = 0
    lookalikes: int = 0
    intact: int = 0
    leaked: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.hidden / self.secrets

    @property
    def precision(self) -> float:
        changed = self.lookalikes - self.intact
        return self.hidden / (self.hidden + changed) if self.hidden + changed else 1.0


def load() -> dict[str, list[dict[str, object]]]:
    return yaml.safe_load(CORPUS.read_text(encoding="utf-8"))


def leaks(value: str, text: str) -> bool:
    if value in text:
        return True
    return len(value) >= 16 and any(value[i : i + 10] in text for i in range(len(value) - 9))


def measure(part: str = "") -> Score:
    """The score on the tuned lists (`part` ""), or on the held-out ones (`part` "heldout_")."""
    corpus = load()
    score = Score()
    for sample in corpus[f"{part}secrets"]:
        score.secrets += 1
        out = redact_text(str(sample["text"]), str(sample["file"]))
        if any(leaks(str(v), out) for v in sample["hide"]):  # type: ignore[attr-defined]
            score.leaked.append(f"{sample['id']}: {out!r}")
        else:
            score.hidden += 1
    for sample in corpus[f"{part}lookalikes"]:
        score.lookalikes += 1
        out = redact_text(str(sample["text"]), str(sample["file"]))
        if out == sample["text"]:
            score.intact += 1
        else:
            score.damaged.append(f"{sample['id']}: {out!r}")
    return score


if __name__ == "__main__":  # python -m tests.security.corpus: the figures the README quotes
    for name in ("", "heldout_"):
        result = measure(name)
        print(f"{name or 'tuned_'}secrets {result.hidden}/{result.secrets} hidden (recall {result.recall:.3f}); "
              f"look-alikes {result.intact}/{result.lookalikes} intact (precision {result.precision:.3f})")
        for line in result.leaked:
            print("  LEAK", line)
        for line in result.damaged:
            print("  DAMAGED", line)
