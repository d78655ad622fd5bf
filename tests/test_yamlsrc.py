"""The line-aware YAML loader."""

from __future__ import annotations

import json
import random
import sys
import traceback

import pytest
import yaml

from orchestrator_kit.yamlsrc import (
    _FLAG_TAG,
    Tagged,
    Yaml11Flag,
    YamlDocument,
    YamlError,
    YMap,
    YSeq,
    _Loader,
    go_yaml_v2_bool,
    load_yaml,
    load_yaml_documents,
    load_yaml_lazily,
    yaml11_bool,
)

DOC = """\
name: CI
on:
  push:
    branches: [main]
jobs:
  build:
    steps:
      - uses: actions/checkout@v4
      - run: |
          make build
          make test

  # a comment between jobs
  deploy:
    needs: build
"""


def test_spans_are_exact_and_exclude_trailing_blank_and_comment_lines():
    doc = load_yaml(DOC)
    assert doc.key_span("on") == (2, 4)
    assert doc["jobs"].key_span("build") == (6, 11)
    assert doc["jobs"]["build"]["steps"].item_spans == [(8, 8), (9, 11)]
    assert doc["jobs"].key_span("deploy") == (14, 15)
    assert doc["jobs"]["build"]["steps"][1]["run"] == "make build\nmake test\n"


@pytest.mark.parametrize("word", ["on", "off", "yes", "no", "y", "n", "On", "YES"])
def test_yaml_1_1_booleans_stay_strings(word):
    assert load_yaml(f"{word}: {word}\n") == {word: word}


@pytest.mark.parametrize(("text", "value"), [("true", True), ("False", False), ("1", 1), ("1.5", 1.5), ("~", None)])
def test_core_scalars(text, value):
    assert load_yaml(f"k: {text}\n") == {"k": value}


def test_merge_keys_and_anchors():
    doc = load_yaml("base: &b {image: x, tags: [a]}\njob:\n  <<: *b\n  image: y\n")
    assert doc["job"] == {"image": "y", "tags": ["a"]}


def test_unknown_tags_load_as_tagged_values():
    doc = load_yaml("script:\n  - !reference [.setup, script]\n  - echo hi\nsecret: !vault |\n  abc\n")
    assert doc["script"][0] == Tagged("!reference", [".setup", "script"])
    assert doc["secret"] == Tagged("!vault", "abc\n")


def test_python_tags_never_construct_objects():
    doc = load_yaml("x: !!python/object/apply:os.system ['echo pwned']\n")
    assert isinstance(doc["x"], Tagged)


def test_billion_laughs_costs_no_memory():
    text = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    for i in range(1, 10):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        text += f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]\n"
    doc = load_yaml(text)
    assert doc["j"][0] is doc["i"]  # aliases share one object: nothing was expanded


def test_unhashable_keys_become_text():
    doc = load_yaml("? [a, b]\n: 1\n")
    assert isinstance(doc, YMap) and list(doc.values()) == [1]


def test_errors_carry_the_line():
    with pytest.raises(YamlError) as info:
        load_yaml("a: 1\nb: [1, 2\nc: 3\n")
    assert info.value.line == 3
    assert str(info.value).startswith("invalid YAML")


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ("a: 1\nb: !!int abc\n", 2, "!!int is not an integer"),
        ("a: !!float x\n", 1, "!!float is not a number"),
        ("k:\n  - !!bool maybe\n", 2, "!!bool is not a boolean (true or false)"),
        ("x: 1\n---\nk: {a: [1, !!int ghp_secretvalue]}\n", 3, "!!int is not an integer"),
        ("? !!float key\n: 1\n", 1, "!!float is not a number"),
        ("a: &x !!int zz\nb: *x\n", 1, "!!int is not an integer"),
        ("a: !!int nope\n---\n[unclosed\n", 1, "!!int is not an integer"),  # the next document never parses
        # IndexError out of PyYAML for an empty one
        ("a: 1\nb: !!int ''\n", 2, "!!int is not an integer"),
        ("a: !!float\n", 1, "!!float is not a number"),
        # a collection tag on the other kind of node: AttributeError, or an error without a line
        ("k: 1\na: !!seq x\n", 2, "!!seq is not a sequence"),
        ("a:\n  b: !!seq {c: 1}\n", 2, "!!seq is not a sequence"),
        ("a: [1, !!map [2]]\n", 1, "!!map is not a mapping"),
        ("a: !!map ghp_secretvalue\n", 1, "!!map is not a mapping"),
    ],
)
def test_a_standard_tag_its_value_does_not_fit_is_invalid_yaml_with_its_line(text, line, what):
    # PyYAML lets Python's ValueError or KeyError through for these: callers expect YamlError only
    with pytest.raises(YamlError) as info:
        load_yaml_documents(text)
    assert info.value.line == line
    assert str(info.value) == f"invalid YAML: a value tagged {what} (line {line})"
    assert "ghp_" not in str(info.value)  # the value is not quoted: messages are not redacted


NINES = "9" * 5000  # past Python's 4,300-digit limit: int() refuses it, so PyYAML let a ValueError out


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (f"a: 1\nb: {NINES}\n", 2, "an integer of more than 4300 digits"),
        (f"a: [1, !!int '-{NINES}']\n", 1, "an integer of more than 4300 digits"),
        # read by int() (no limit for bases 2, 8, 16) but more decimal digits than str() writes: any later f-string
        # of it raised ValueError ("internal error in detector" in nine detectors)
        ("a: 1\nb:\n  - 0x" + "f" * 5000 + "\n", 3, "an integer of more than 4300 decimal digits"),
        ("a: -0b1_" + "0" * 15000 + "\n", 1, "an integer of more than 4300 decimal digits"),
        ("a: 07" + "7" * 5000 + "\n", 1, "an integer of more than 4300 decimal digits"),
        ("a: !!int '0x" + "f" * 5000 + "'\n", 1, "an integer of more than 4300 decimal digits"),
    ],
)
def test_an_integer_past_pythons_digit_limit_is_invalid_yaml_with_its_line(text, line, message):
    for load in (load_yaml_documents, lambda text: [doc.get("a") and doc.get("b") for doc in load_yaml_lazily(text)]):
        with pytest.raises(YamlError) as info:
            load(text)
        assert (str(info.value), info.value.line) == (f"invalid YAML: {message} (line {line})", line)


@pytest.mark.parametrize("text", ["1:30", "1" + ":59" * 2500, "-1:0", "'1:30'"])
def test_a_base_60_integer_is_not_an_integer(text):
    # YAML 1.2 has no base 60 (GitHub Actions, Go's yaml) and a plain `1:30` is a string here: `!!int 1:30` is no
    # integer either. PyYAML built one with a multiplication of the whole value per part: 2,500 parts gave an
    # integer str() refuses (and the time grew with the square of the parts).
    for load in (load_yaml_documents, lambda text: [doc.get("a") for doc in load_yaml_lazily(text)]):
        with pytest.raises(YamlError) as info:
            load(f"k: 1\na: !!int {text}\n")
        assert (str(info.value), info.value.line) == ("invalid YAML: a value tagged !!int is not an integer (line 2)", 2)
    assert load_yaml("a: !!float 1:30.5\nb: 1:30\n") == {"a": 90.5, "b": "1:30"}  # base-60 floats stay: linear
    # found again with its line when another bad value is built first (merged pairs are built before the others)
    with pytest.raises(YamlError) as info:
        load_yaml_documents("a:\n  y: !!int 1:30\n  <<: {x: !!int abc}\n")
    assert info.value.line == 2


def test_long_numbers_within_the_limit_and_long_hex_text_still_load():
    hex_text = "0x" + "f" * 5000
    loaded = load_yaml(f"a: 0x{'f' * 3000}\nb: '{hex_text}'\nc: x{hex_text}\nd: {'9' * 4300}\n# {hex_text}\n")
    assert loaded == {"a": int("f" * 3000, 16), "b": hex_text, "c": "x" + hex_text, "d": int("9" * 4300)}


def test_standard_tags_that_fit_still_convert():
    assert load_yaml("a: !!int 0x1f\nb: !!float .inf\nc: !!bool yes\nd: !!int '7'\n") == {
        "a": 31, "b": float("inf"), "c": True, "d": 7}


def test_multiple_documents_skip_empty_ones():
    assert load_yaml_documents("a: 1\n---\n---\nb: 2\n") == [{"a": 1}, {"b": 2}]


def test_dates_stay_text():
    assert load_yaml("d: 2024-01-01\n") == {"d": "2024-01-01"}


ALIASED = """\
base: &b
  image: x

  # trailing comment
other: *b
list: &l
  - a
  - b
again: *l
text: &s plain
copy: *s
tagged: !!str 12
quoted: "12"
number: 12
folded: >-
  two
  lines
"""


def test_aliases_take_the_anchored_value_and_its_lines():
    doc = load_yaml(ALIASED)
    assert doc["other"] is doc["base"] and doc["again"] is doc["list"]  # mappings and sequences are shared
    assert doc.key_span("base") == (1, 2)
    assert doc.key_span("other") == (5, 5)  # the alias's line; the anchored mapping ends before it
    assert doc.key_span("list") == (6, 8)
    assert doc.key_span("again") == (9, 9)
    assert doc["list"].item_spans == [(7, 7), (8, 8)]
    assert doc["copy"] == doc["text"] == "plain"
    assert (doc["tagged"], doc["quoted"], doc["number"], doc["folded"]) == ("12", "12", 12, "two lines")
    assert doc.key_span("folded") == (15, 17)


def test_keys_that_are_not_strings_keep_their_type_or_become_text():
    doc = load_yaml("1: one\n1.5: half\nfalse: no\n? {a: 1}\n: map\n'2': two\n")
    assert list(doc) == [1, 1.5, False, "{'a': 1}", "2"]
    assert doc.key_span("2") == (6, 6)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("ports: [22:22, 8080:80, 1:30]\n", {"ports": ["22:22", "8080:80", "1:30"]}),  # YAML 1.1 read 1342, ...
        ("t: 190:20:30.15\n", {"t": "190:20:30.15"}),  # a base-60 float in YAML 1.1
        ("enum: ['!=', =, =~]\n", {"enum": ["!=", "=", "=~"]}),  # PyYAML could not construct `=` at all
        # YAML 1.1's int pattern took these and int() could not read them (no digit): the whole file was invalid
        ("mask: [0x_, 0b__, -0x_, +0b_]\n", {"mask": ["0x_", "0b__", "-0x_", "+0b_"]}),
        ("n: [0x_1, 0b_1, 0x1_f]\n", {"n": [1, 1, 31]}),  # with a digit they are numbers, as before
        # YAML 1.1's merge type, which PyYAML can build only as a key: the whole file was invalid YAML
        ("ops: [<<, '>>']\nshift: <<\n", {"ops": ["<<", ">>"], "shift": "<<"}),
    ],
)
def test_plain_scalars_read_as_yaml_1_2_tools_read_them(text, value):
    assert load_yaml(text) == value


def test_other_plain_numbers_resolve_as_pyyaml_resolves_them():
    # Only base-60 numbers, `=` and `0x`/`0b` without a digit changed: every other plain scalar gets PyYAML's tag
    # (seeded corpus of number-like and word-like texts; booleans compared apart, they follow YAML 1.2 by design).
    rng = random.Random(17)  # noqa: S311 - seeded test input, not security
    alphabet = "0123456789+-._eExXbBoOabcdfinINF"
    texts = {"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8))) for _ in range(20_000)}
    texts |= {"010", "0b101", "0x1F", "1_000", "+.inf", ".NaN", "-0", "1e3", "1.0e+3", "6.8523015e+5", "0o17"}
    ours, theirs = _Loader(""), yaml.SafeLoader("")
    tags = {t: theirs.resolve(yaml.ScalarNode, t, (True, False)) for t in sorted(texts)}
    differ = [t for t, tag in tags.items()
              if tag != "tag:yaml.org,2002:bool" and ours.resolve(yaml.ScalarNode, t, (True, False)) != tag]
    assert differ == ["N", "n"]  # strings to both, marked as go-yaml v2's booleans (`Yaml11Flag`)
    assert {ours.resolve(yaml.ScalarNode, t, (True, False)) for t in differ} == {_FLAG_TAG}
    assert sum(tag.endswith(("int", "float")) for tag in tags.values()) > 300  # the corpus holds numbers
    assert ours.resolve(yaml.ScalarNode, "1:30", (True, False)) == "tag:yaml.org,2002:str"
    assert theirs.resolve(yaml.ScalarNode, "1:30", (True, False)) == "tag:yaml.org,2002:int"
    assert ours.resolve(yaml.ScalarNode, "0x_", (True, False)) == "tag:yaml.org,2002:str"
    assert theirs.resolve(yaml.ScalarNode, "0x_", (True, False)) == "tag:yaml.org,2002:int"


LAZY_STREAM = ALIASED + """\
---
defaults: &d {image: x, tags: [a]}
job:
  <<: *d
  image: y
job: {image: z}
? [not, a, string]
: 1
7: seven
---
- a list
---
~
---
plain scalar
"""


def test_lazy_documents_give_what_the_loader_gives_key_by_key():
    eager = load_yaml_documents(LAZY_STREAM)
    lazy = load_yaml_lazily(LAZY_STREAM)
    assert len(lazy) == len(eager) == 4  # the null document is dropped by both
    for built, document in zip(eager, lazy, strict=True):
        if isinstance(built, YMap):
            assert isinstance(document, YamlDocument) and document.span == built.span
            for key in built:
                if isinstance(key, str) and not key.startswith("["):  # not a key YAML wrote as a sequence
                    assert key in document and document.get(key) == built[key]
                    value = document.get(key)
                    if isinstance(value, YMap | YSeq):
                        assert value.span == built[key].span
        else:
            assert document == built
    assert lazy[1].get("job") == {"image": "z"}  # a repeated key: the last value, as in a YMap
    assert lazy[1].get(7) is None and lazy[1].get("7") is None and lazy[1].get("missing", "d") == "d"
    assert "['not', 'a', 'string']" in eager[1] and "['not', 'a', 'string']" not in lazy[1]  # string keys only


def test_a_lazy_value_is_built_only_when_read():
    (document,) = load_yaml_lazily("kind: CustomResourceDefinition\nspec:\n  deep:\n    n: !!int abc\n")
    assert document.get("kind") == "CustomResourceDefinition"  # the bad value below is never built
    with pytest.raises(YamlError) as info:
        document.get("spec")
    assert str(info.value) == "invalid YAML: a value tagged !!int is not an integer (line 4)"


def test_lazy_loading_still_reads_the_whole_stream_for_syntax():
    with pytest.raises(YamlError) as info:
        load_yaml_lazily("kind: A\n---\nkind: [unclosed\n")
    assert info.value.line == 4


def test_a_lazy_value_that_cannot_be_built_is_reported_at_its_own_line():
    # The first mistyped scalar of the stream (line 2, another key's value, never read) is not the one read.
    (document,) = load_yaml_lazily("kind: A\nschema: {n: !!float wide}\nspec:\n  replicas: !!int lots\n")
    with pytest.raises(YamlError) as info:
        document.get("spec")
    assert (str(info.value), info.value.line) == ("invalid YAML: a value tagged !!int is not an integer (line 4)", 4)


def test_a_lazy_value_that_failed_does_not_spoil_the_values_read_after_it():
    # A failed build left its nodes marked as being built: reading the value again said "found unconstructable
    # recursive node", and so did reading a valid value anchored inside it.
    (document,) = load_yaml_lazily("kind: A\nspec: &s\n  replicas: !!int lots\nagain: *s\n")
    for key in ("spec", "spec", "again"):
        with pytest.raises(YamlError) as info:
            document.get(key)
        assert str(info.value) == "invalid YAML: a value tagged !!int is not an integer (line 3)"
    # `spec` is too deep to build (the recursion limit is set from here: 600 frames, 4 to 5 a level, so it fails
    # between 120 and 150 levels); `other`, anchored 60 levels down inside it, is 100 deep and builds on its own.
    text = "spec: " + "[" * 60 + "&in " + "[" * 100 + "]" * 160 + "\nother: *in\n"
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(traceback.extract_stack()) + 600)
    try:
        (alone,) = load_yaml_lazily(text)
        assert len(alone.get("other")) == 1
        (document,) = load_yaml_lazily(text)
        with pytest.raises(YamlError, match="nesting too deep"):
            document.get("spec")
        assert document.get("other") == alone.get("other")
    finally:
        sys.setrecursionlimit(limit)


def test_a_document_built_at_lazy_load_is_reported_at_its_own_line():
    # A list document is built while the stream loads: its bad value (line 4) is the error, not one in a value of an
    # earlier document that is never read (line 2)
    with pytest.raises(YamlError) as info:
        load_yaml_lazily("kind: A\nspec: {n: !!int many}\n---\n- !!int lots\n")
    assert (str(info.value), info.value.line) == ("invalid YAML: a value tagged !!int is not an integer (line 4)", 4)


def test_plain_yaml_1_1_booleans_are_strings_that_remember_it():
    doc = load_yaml('on: push\na: yes\nb: "yes"\nc: Off\nd: y\ne: [no, ON]\nf: true\nyes: 1\n')
    assert doc == {"on": "push", "a": "yes", "b": "yes", "c": "Off", "d": "y", "e": ["no", "ON"], "f": True, "yes": 1}
    assert all(type(key) is str for key in doc)  # keys stay plain (GitHub's `on:`)
    assert isinstance(doc["a"], Yaml11Flag) and type(doc["b"]) is str  # quoted: a string to every reader
    assert [yaml11_bool(doc[k]) for k in "abcdf"] == [True, None, False, None, True]
    assert [yaml11_bool(v) for v in doc["e"]] == [False, True]
    assert isinstance(doc["d"], Yaml11Flag) and go_yaml_v2_bool(doc["d"]) is True  # kubectl's go-yaml v2 only
    assert json.dumps(doc) == ('{"on": "push", "a": "yes", "b": "yes", "c": "Off", "d": "y", "e": ["no", "ON"], '
                               '"f": true, "yes": 1}')
    (lazy,) = load_yaml_lazily("on: push\nsuspend: yes\n")
    assert lazy.get("on") == "push" and yaml11_bool(lazy.get("suspend")) is True


@pytest.mark.parametrize("value", [True, False, 1, None, "yes", "on", "maybe"])
def test_yaml11_bool_reads_only_booleans_and_marked_plain_words(value):
    assert yaml11_bool(value) is (value if isinstance(value, bool) else None)
