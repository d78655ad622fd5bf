"""Reading designs: round trips, the schema, and bad or hostile input (clear errors with locations, never a crash)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator_kit import InputError
from orchestrator_kit.design import DesignInputError, WorkflowDesign, load_design, load_design_file
from orchestrator_kit.design.load import MAX_DEPTH, MAX_DESIGN_BYTES, MAX_STATES, MAX_VALUES
from orchestrator_kit.design.model import json_schema

from .helpers import EXAMPLES, VALID_EXAMPLES, base, example_text


def problems(source) -> list[tuple[str, str, int | None]]:
    with pytest.raises(DesignInputError) as info:
        load_design(source)
    return [(p.location, p.message, p.line) for p in info.value.problems]


@pytest.mark.parametrize("name", VALID_EXAMPLES + [f"{n}.broken" for n in VALID_EXAMPLES])
def test_yaml_and_json_round_trips(name):
    design = load_design(example_text(name)).design
    assert load_design(design.to_yaml()).design == design
    assert load_design(design.to_json()).design == design
    assert WorkflowDesign.model_validate(json.loads(design.to_json())) == design


@pytest.mark.parametrize("text", ["a\x85b", "\u2028", "line\u2029break", "x\ny", "\n", "a\n\n", " \x85 "])
def test_a_guard_with_any_line_break_survives_the_yaml_round_trip(text):
    """NEL, LINE and PARAGRAPH SEPARATOR are line breaks to a YAML reader: written raw they came back as a space."""
    design = base()
    design["states"][0]["transitions"] = [
        {"target": "ship", "guard": {"variable": "$.a", "op": "eq", "value": text}}, {"target": "ship"},
    ]
    loaded = load_design(design).design
    again = load_design(loaded.to_yaml()).design
    assert again == loaded
    assert again.states[0].transitions[0].guard.value == text


@pytest.mark.parametrize("name", VALID_EXAMPLES)
def test_examples_validate_against_the_published_json_schema(name):
    import jsonschema

    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    data = json.loads(load_design(example_text(name)).design.to_json())
    jsonschema.Draft202012Validator(schema).validate(data)
    # Durations may be written as text too, and the schema says so.
    jsonschema.Draft202012Validator(schema).validate({**data, "timeout_seconds": "3d"})


def test_schema_rejects_what_the_loader_rejects():
    import jsonschema

    bad = {**base(), "colour": "blue"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(json_schema()).validate(bad)
    assert problems(bad) == [("/colour", "unknown field (not in the design schema; see `orchestrator-kit design schema`)", None)]


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("90s", 90), ("1.5m", 90), ("2h", 7200), ("3d", 259200),
                                               ("500ms", 0.5), (45, 45)])
def test_durations(text, seconds):
    design = base()
    design["timeout_seconds"] = text
    assert load_design(design).design.timeout_seconds == seconds


def test_errors_point_at_the_field_and_its_line():
    text = (
        "name: x\n"                        # 1
        "start_at: a\n"                    # 2
        "states:\n"                        # 3
        "  - name: a\n"                    # 4
        "    type: task\n"                 # 5
        "    action: svc.a\n"              # 6
        "    timeout_seconds: soon\n"      # 7
        "    retry:\n"                     # 8
        "      - errors: [Busy]\n"         # 9
        "        backoff_rate: 2\n"        # 10
        "    colour: blue\n"               # 11
        "  - name: b\n"                    # 12
        "    type: tsk\n"                  # 13
    )
    found = problems(text)
    assert ("/states/0/timeout_seconds",
            "a duration is a number of seconds or text like '90s', '15m', '2h', '3d'", 7) in found
    assert ("/states/0/retry/0/max_attempts", "required field is missing", 9) in found
    assert ("/states/0/colour", "unknown field (not in the design schema; see `orchestrator-kit design schema`)",
            11) in found
    (tag,) = [p for p in found if p[0] == "/states/1"]
    assert "'tsk'" in tag[1] and tag[2] == 12


def test_condition_forms_are_checked():
    design = base()
    design["states"][1]["transitions"] = [
        {"target": "done", "guard": {"variable": "$.a", "op": "eq", "value": 1, "expression": "x"}},
        {"target": "done", "guard": {"variable": "$.a", "op": "in", "value": 1}},
        {"target": "done", "guard": {"variable": "$.a"}},
    ]
    found = {p[0]: p[1] for p in problems(design)}
    assert "exactly one of" in found["/states/1/transitions/0/guard"]
    assert found["/states/1/transitions/1/guard"] == "op 'in' needs a list 'value'"
    assert found["/states/1/transitions/2/guard"] == "a comparison needs both 'variable' and 'op'"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the design is empty"),
        ("name: [unclosed\n", "invalid YAML"),
        ('{"name": "x", ', "invalid JSON"),
        ("- a\n- b\n", "a design is a mapping (a JSON object) at the top, not a list"),
        ("just text", "a design is a mapping (a JSON object) at the top, not a str value"),
        ("a: 1\n---\nb: 2\n", "expected one YAML document, found 2"),
        ("x: \x00", "NUL characters"),
        ("name: a\nname: b\nstart_at: a\n", "the same key is written twice in a mapping"),
        ("a: &a [*a]\n", "recursive node"),
    ],
)
def test_unreadable_text(text, message):
    with pytest.raises(DesignInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_design(text)


def test_a_recursive_mapping_is_refused():
    design = base()
    design["states"][0]["loop"] = design  # only possible in Python: YAML's own loader refuses recursive aliases
    with pytest.raises(DesignInputError, match="refers to itself"):
        load_design(design)


def test_duplicate_key_has_its_line():
    assert problems("name: a\nstart_at: a\nname: b\n") == [("/name", "key 'name' is written more than once", 3)]


def test_json_with_tabs_falls_back_to_the_json_parser():
    text = json.dumps(base(), indent="\t")
    assert load_design(text).design.name == "mini"


def test_tags_are_values_not_objects():
    found = problems("name: !!python/object:os.system x\nstart_at: a\n")
    assert found[0][0] == "/name"


def test_billion_laughs_is_refused_cheaply():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}]"
              for i in range(1, 9)]
    with pytest.raises(DesignInputError, match=f"more than {MAX_VALUES} values"):
        load_design("\n".join(lines) + "\n")


def test_deep_nesting():
    deep: dict = {"variable": "$.a", "op": "present"}
    for _ in range(MAX_DEPTH):
        deep = {"not": deep}
    design = base()
    design["states"][1]["transitions"] = [{"target": "done", "guard": deep}]
    with pytest.raises(DesignInputError, match="nested too deeply"):
        load_design(design)
    with pytest.raises(DesignInputError, match=r"nested too deeply|invalid"):
        load_design("a: " + "[" * 5000 + "]" * 5000)


def test_too_many_states():
    design = base()
    design["states"] = [{"name": f"s{i}", "type": "succeed"} for i in range(MAX_STATES + 1)]
    with pytest.raises(DesignInputError, match=f"has {MAX_STATES + 1} states; the limit is {MAX_STATES}"):
        load_design(design)


def test_too_big():
    with pytest.raises(DesignInputError, match="limit is"):
        load_design("# " + "x" * MAX_DESIGN_BYTES)


def test_files(tmp_path):
    assert load_design_file(EXAMPLES / "order-fulfilment.yaml").design.name == "order-fulfilment"
    with pytest.raises(InputError, match="does not exist"):
        load_design_file(tmp_path / "nope.yaml")
    with pytest.raises(InputError, match="not a regular file"):
        load_design_file(tmp_path)
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(DesignInputError, match="not UTF-8 text"):
        load_design_file(latin1)
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (MAX_DESIGN_BYTES + 10))
    with pytest.raises(DesignInputError, match="larger than the limit"):
        load_design_file(big)


def test_other_python_objects_are_refused():
    with pytest.raises(DesignInputError, match="not int"):
        load_design(42)  # type: ignore[arg-type]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=40,
)
STATE_KEYS = st.sampled_from(["name", "type", "action", "transitions", "target", "retry", "branches", "states",
                              "start_at", "errors", "max_attempts", "guard", "choices", "default", "seconds"])
DESIGNISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10) | st.sampled_from(["task", "choice", "parallel"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(STATE_KEYS, children, max_size=6),
    max_leaves=60,
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(data=JSON | DESIGNISH)
def test_random_data_never_crashes_the_loader(data):
    for source in (data, json.dumps(data)):
        try:
            load_design(source)
        except DesignInputError as exc:
            assert str(exc)
            assert all(p.location == "" or p.location.startswith("/") for p in exc.problems)


@given(text=st.text(max_size=300))
def test_random_text_never_crashes_the_loader(text):
    try:
        load_design(text)
    except DesignInputError as exc:
        assert str(exc)
