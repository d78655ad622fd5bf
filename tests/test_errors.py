"""errors.sentence: a quoted reason followed by the next sentence has one full stop, never two."""

from __future__ import annotations

import pytest

from orchestrator_kit.errors import sentence


@pytest.mark.parametrize(("given", "expected"), [
    ("Pass the value as a parameter instead.", "Pass the value as a parameter instead."),
    ("No such file or directory", "No such file or directory."),
    ("is it a repository?", "is it a repository?"),
    ("unterminated subpattern at position 0  ", "unterminated subpattern at position 0."),
])
def test_sentence_ends_with_exactly_one_mark(given, expected):
    assert sentence(given) == expected
