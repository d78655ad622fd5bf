"""YAML written by the tool reads back as the same data, whatever characters its strings hold."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from orchestrator_kit import yamltext
from orchestrator_kit.automation import yamlout

TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
DATA = st.dictionaries(st.text(min_size=1, max_size=8).filter(lambda k: k != "on"),
                       TEXT | st.lists(TEXT, max_size=3), min_size=1, max_size=4)


@pytest.mark.parametrize("text", ["a\x85b", "\u2028", "a\u2029b", "\n", "a\n\n", "x\n\x85y\n", " ", "", "é\tz"])
def test_every_line_break_survives(text):
    data = {"guard": text, "list": [text]}
    assert yaml.safe_load(yamltext.dump(data, allow_unicode=True)) == data
    assert yaml.safe_load(yamlout.dump(data)) == data


def test_multi_line_text_stays_a_readable_block():
    assert yamlout.dump({"run": "make build\nmake test\n"}) == "run: |\n  make build\n  make test\n"
    assert yamltext.string_style("a\x85b", block=True) == '"'


@given(data=DATA)
def test_any_text_round_trips(data):
    assert yaml.safe_load(yamltext.dump(data, allow_unicode=True, width=120)) == data
    assert yaml.safe_load(yamlout.dump(data)) == data
