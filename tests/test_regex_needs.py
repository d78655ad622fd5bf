"""What a regular expression needs: every match holds one of the strings read from its parse tree (the redaction
patterns are screened with it before they are searched)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator_kit import redaction, redaction_rules
from orchestrator_kit.regex_needs import needs


@pytest.mark.parametrize(("pattern", "flags", "strings", "lower"), [
    (r"(?:\s|=|^)AKC[a-z]{10,}", 0, ("AKC",), False),
    (r"x(?:ab)+[cd]\b(?P<v>efg)", 0, ("efg",), False),  # the longest need wins
    (r"(foo|barbaz)qux", 0, ("foo", "barbaz"), False),  # a branch needs one of its branches' needs
    (r"aws.{0,20}?(?:key|pwd)", re.I, ("aws",), True),
    (r"(?i:ab)c", 0, ("ab",), True),  # a group that ignores case makes the whole need case-insensitive
    (r"a?bc*", 0, ("b",), False),
    (r"(?:abc)?d", 0, ("d",), False),  # an optional group needs nothing
    (r"(?:abc){2}", 0, ("abc",), False),
])
def test_needs_of_patterns(pattern, flags, strings, lower):
    need = needs(re.compile(pattern, flags))
    assert need is not None and need.strings == strings and need.lower is lower


@pytest.mark.parametrize("pattern", [r"\d+", r"(?:abc)?", r"a|\w", r"[abc]x?", r"(?=abc)", r"\b\w+\b", "ü"])
def test_patterns_that_need_nothing_sayable_give_none(pattern):
    assert needs(re.compile(pattern)) is None


def test_a_case_insensitive_need_is_not_judged_on_a_line_that_is_not_ascii():
    need = needs(re.compile("secret", re.I))
    assert need is not None
    assert need.met("ſecret", None)  # the long s matches `s` case-insensitively: not ruled out
    assert not need.met("plain", "plain") and need.met("A SECRET", "a secret")


PATTERNS = sorted({(p.pattern, p.flags) for _, plugin in redaction._get_plugins().pattern_plugins
                   for p in getattr(plugin, "denylist", ())} | {(p.pattern, p.flags) for p in redaction_rules._NEEDS})


@settings(max_examples=600)
@given(data=st.data())
def test_every_match_of_a_redaction_pattern_holds_what_it_needs(data):
    pattern_text, flags = data.draw(st.sampled_from(PATTERNS))
    pattern = re.compile(pattern_text, flags)
    need = needs(pattern)
    if need is None:
        return
    try:
        matching = st.from_regex(pattern)
    except Exception:
        matching = st.text()
    line = data.draw(st.text(max_size=5)) + data.draw(matching) + data.draw(st.text(max_size=5))
    if pattern.search(line):
        assert need.met(line, line.lower() if line.isascii() else None), (pattern_text, line)


def test_most_redaction_patterns_need_something():
    assert sum(needs(re.compile(p, f)) is not None for p, f in PATTERNS) >= len(PATTERNS) - 6
