"""datatext: JSON and TOML text whose every failure is the parser's own decode error, with the line."""

from __future__ import annotations

import json
import tomllib

import pytest

from orchestrator_kit.datatext import load_json, load_toml

NINES = "9" * 5000  # past Python's 4,300-digit limit for int() and str()
HEX = "0x" + "f" * 5000  # read by tomllib (base 16 has no limit), but about 6,000 decimal digits


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        (f'{{"a": 1,\n "b": [1, {NINES}]}}', 2, 11),
        (f'{{"a": "{NINES}",\n\n "b": -{NINES}}}', 3, 8),  # the digits in a string do not count
        (f'[{NINES}]', 1, 2),
    ],
)
def test_json_integer_past_the_digit_limit_is_a_decode_error_at_its_place(text, line, column):
    # json.loads raises a bare ValueError with no position there, which callers catching JSONDecodeError miss
    with pytest.raises(json.JSONDecodeError) as info:
        load_json(text)
    assert (info.value.lineno, info.value.colno) == (line, column)
    assert info.value.msg == "Integer of more than 4300 digits"
    assert "999" not in str(info.value)


def test_json_as_json_loads_reads_it():
    text = '{"a": [1, 2.5, "x", null, true], "b": {"c": -3}, "d": 1e999}'
    assert load_json(text) == json.loads(text)
    with pytest.raises(json.JSONDecodeError, match="Expecting value"):
        load_json('{"a": }')
    with pytest.raises(RecursionError):  # left to the callers, which report it already
        load_json("[" * 100_000 + "]" * 100_000)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"a = 1\nb = [\n  1,\n  {NINES},\n]\n", "Integer of more than 4300 digits (at line 4, column 3)"),
        (f'a = "{NINES}"\n# {NINES}\nb = {NINES}\n', "Integer of more than 4300 digits (at line 3, column 5)"),
        ("[tool]\nx = " + "[" * 3000 + "]" * 3000 + "\n", "Nesting too deep (at line 2, column 1)"),
        ("a = 1\nx = " + "{b = " * 3000 + "1" + "}" * 3000 + "\n", "Nesting too deep (at line 2, column 1)"),
        # only the integer that is a value counts, not the same text in a string or a comment before it
        (f'a = "{HEX}"\n# {HEX}\nb = [\n  1,\n  {HEX},\n]\n', "Integer of more than 4300 decimal digits (at line 5, column 3)"),
        (f"[t]\nk = 0o{'7' * 5000}\n", "Integer of more than 4300 decimal digits (at line 2, column 5)"),
        (f"[t]\nk = [0b{'1' * 15000}]\n", "Integer of more than 4300 decimal digits (at line 2, column 6)"),
    ],
)
def test_toml_failures_past_the_parser_are_decode_errors_with_their_line(text, message):
    with pytest.raises(tomllib.TOMLDecodeError) as info:
        load_toml(text)
    assert str(info.value) == message


def test_toml_as_tomllib_reads_it():
    text = f'a = "{HEX}"\n# {HEX}\nb = 0x{"f" * 3000}\nc = 0b1010\n[t]\nd = 1979-05-27\n'
    assert load_toml(text) == tomllib.loads(text)  # a long hex run that is no too-long integer is fine
    with pytest.raises(tomllib.TOMLDecodeError, match="at line 1"):
        load_toml("a = \n")


def test_json_lone_surrogate_escapes_come_back_as_replacement_characters():
    # kept as lone surrogates, they reached the JSON encoder: scan --format json was "Internal error"
    text = r'{"t\ud800": "jest \udc00 \ud83d\ude00", "l": ["\uD800", ["\\ud800", {"k\udfff": 1}]]}'
    assert load_json(text) == {"t\ufffd": "jest \ufffd \U0001F600", "l": ["\ufffd", ["\\ud800", {"k\ufffd": 1}]]}
    assert load_json(r'"\ud800"') == "\ufffd"
