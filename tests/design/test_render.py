"""Mermaid diagrams: their lines checked by hand, and (when mmdc is installed) every example rendered by Mermaid."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from orchestrator_kit.design import render_workflow_diagram

from ..conftest import require_tool
from .helpers import VALID_EXAMPLES, base, example_text, state, task


def lines(design, kind="state") -> list[str]:
    return [line.strip() for line in render_workflow_diagram(design, kind=kind).mermaid.splitlines()]


def test_state_diagram_of_the_base_design():
    out = lines(base())
    assert out[0] == "stateDiagram-v2"
    for expected in [
        'state "charge (undo: refund)" as s0',
        'state "ship" as s1',
        "[*] --> s0",
        "s0 --> s1 : done",
        "s0 --> s2 : catch States.ALL",
        "s1 --> s3 : done",
        "s2 --> s4 : done",
        "s3 --> [*]",
        "s4 --> [*]",
        "class s4 failure",
        "class s2 compensation",
    ]:
        assert expected in out, expected


def test_parallel_choice_guard_and_human_task():
    design = base()
    state(design, "ship")["transitions"] = [{"target": "checks"}]
    design["states"] += [
        {"name": "checks", "type": "parallel", "transitions": [{"target": "route"}], "branches": [
            {"name": "a", "start_at": "a1", "states": [task("a1", "a_ok"), {"name": "a_ok", "type": "succeed"}]},
            {"name": "b", "start_at": "b1", "states": [task("b1", "b_ok"), {"name": "b_ok", "type": "succeed"}]},
        ]},
        {"name": "route", "type": "choice", "default": "review",
         "choices": [{"condition": {"variable": "$.total", "op": "le", "value": 100}, "target": "done"}]},
        {"name": "review", "type": "human_task", "owner": "ops", "deadline_seconds": "1d",
         "escalation": {"after_seconds": "4h", "to": "lead"}, "transitions": [{"event": "approved", "target": "done"}]},
    ]
    out = lines(design)
    start = out.index('state "checks" as s5 {')
    end = out.index("}", start)
    assert out[start:end + 1] == [
        'state "checks" as s5 {', 'state "a1" as s6', 'state "a_ok" as s7', "[*] --> s6", "s6 --> s7 : done",
        "s7 --> [*]", "--", 'state "b1" as s8', 'state "b_ok" as s9', "[*] --> s8", "s8 --> s9 : done",
        "s9 --> [*]", "}",
    ]
    assert "state s10 <<choice>>" in out
    assert "s10 --> s3 : $.total ≤ 100" in out and "s10 --> s11 : default" in out
    assert "note right of s11 : owner ops, deadline 1d, escalates to lead after 4h" in out
    assert "class s11 human" in out


def test_hostile_names_become_safe_labels():
    design = base()
    design["states"][1]["name"] = 'ship "now"; #1 <b>{x}</b>'
    state(design, "charge")["transitions"] = [{"target": design["states"][1]["name"]}]
    out = lines(design)
    assert "state \"ship 'now', ＃1 ＜b＞(x)＜/b＞\" as s1" in out
    assert "s0 --> s1 : done" in out  # ids are generated, whatever the names


def test_saga_diagram_shows_compensations_in_the_order_they_run():
    out = lines(example_text("order-fulfilment"), "saga")
    assert out[:2] == ["sequenceDiagram", "participant wf as Workflow"]
    # Participants are numbered as they first appear: the person only appears in create_shipment's failure block.
    assert out[5:8] == ["participant p3 as shipping", "actor p4 as fulfilment-team", "participant p5 as notifications"]
    block = out.index("opt charge_payment times out")
    assert out[block:block + 5] == [
        "opt charge_payment times out",
        "wf->>p2: refund_payment (undo charge_payment)",
        "wf->>p1: release_inventory (undo reserve_inventory)",
        "Note over wf: ends: order_failed (failed), consistent",
        "end",
    ]
    declined = out.index("opt charge_payment fails (PaymentDeclined)")
    assert out[declined + 1] == "wf->>p1: release_inventory (undo reserve_inventory)"
    shipment = out.index("opt create_shipment fails (AddressUndeliverable)")
    assert out[shipment + 1:shipment + 3] == ["wf->>p4: manual_fulfilment", "wf->>p5: send_confirmation"]


def test_saga_diagram_marks_inconsistent_endings():
    out = lines(example_text("order-fulfilment.broken"), "saga")
    assert any(line.endswith("INCONSISTENT") for line in out)


def test_colons_in_notes_become_look_alikes():
    design = base()
    state(design, "ship")["transitions"] = [{"target": "approve"}]
    design["states"].append({"name": "approve", "type": "human_task", "owner": "team:payments", "deadline_seconds": 60,
                             "escalation": {"after_seconds": 30, "to": "oncall:sre"},
                             "transitions": [{"event": "done", "target": "done"}]})
    (note,) = [line for line in render_workflow_diagram(design).mermaid.splitlines() if "note right of" in line]
    assert note.endswith(": owner team∶payments, deadline 1m, escalates to oncall∶sre after 30s")


def test_unknown_kind_is_an_input_error():
    from orchestrator_kit import InputError

    with pytest.raises(InputError, match="'state' or 'saga'"):
        render_workflow_diagram(base(), kind="gantt")  # type: ignore[arg-type]


def _mmdc() -> tuple[str, str | None]:
    found = os.environ.get("MMDC") or shutil.which("mmdc")
    return require_tool("mmdc", found if found and os.path.exists(found) else None), os.environ.get(
        "MMDC_PUPPETEER_CONFIG"
    )


@pytest.mark.external_tool("mmdc")
def test_mermaid_renders_every_example_diagram(tmp_path):
    """Every diagram of every example (and of a design with hostile names) through Mermaid itself; a syntax error
    fails. A deliberately broken diagram proves that mmdc does report one."""
    mmdc, config = _mmdc()
    if config is None:
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        config_path = tmp_path / "puppeteer.json"
        config_path.write_text(json.dumps({"executablePath": chromium, "args": ["--no-sandbox", "--disable-gpu"]}))
        config = str(config_path)
    hostile = base()
    hostile["states"][1]["name"] = 'ship "now"; #1 <b>{x}</b> --> [*] %% end'
    state(hostile, "charge")["transitions"] = [{"target": hostile["states"][1]["name"]}]
    # A human task whose owner and escalation target hold colons (`team:payments` broke the note before).
    state(hostile, "refund")["transitions"] = [{"target": "approve"}]
    hostile["states"].append({"name": "approve", "type": "human_task", "owner": "team:payments", "deadline_seconds": 3600,
                              "escalation": {"after_seconds": 600, "to": "oncall:sre"},
                              "transitions": [{"event": "done", "target": "failed"}]})
    # One markdown file (one mmdc process, one browser) per example and its broken twin, run side by side.
    groups = [[example_text(n), example_text(f"{n}.broken")] for n in VALID_EXAMPLES] + [[hostile]]
    runs = []
    for i, group in enumerate(groups):
        blocks = [render_workflow_diagram(s, kind=k).markdown() for s in group for k in ("state", "saga")]
        document = tmp_path / f"group{i}.md"
        document.write_text("\n".join(blocks), encoding="utf-8")
        command = [mmdc, "-p", config, "-i", str(document), "-o", str(tmp_path / f"out{i}.md")]
        runs.append((len(blocks), i, subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
    broken = tmp_path / "broken.mmd"
    broken.write_text("stateDiagram-v2\n  [*] --> A -->\n", encoding="utf-8")
    negative = subprocess.Popen([mmdc, "-p", config, "-i", str(broken), "-o", str(tmp_path / "broken.svg")],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for count, i, proc in runs:
        output, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, output
        assert len(list(tmp_path.glob(f"out{i}-*.svg"))) == count
    output, _ = negative.communicate(timeout=300)
    assert negative.returncode != 0 and "Parse error" in output
