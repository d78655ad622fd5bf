"""The grounding check: is every number and every `path:line` of a report backed by a tool result?

A report is grounded when each of its claims is either **supported** (it appears in the text of a tool result of the
run) or **labelled** (a number whose sentence says it is an assumption, an estimate, a goal or "not measured"; a
location cannot be labelled: it is cited right or not). Everything else is **unsupported**, reported with the
sentence it stands in, so a reader (or the model, in its revision turn) can fix it.

What counts as a claim, and when it is supported:

* **A location** `path:line` or `path:start-end` (for example `Makefile:12` or `.github/workflows/ci.yml:3-9`).
  Supported when a tool result names that file with a line range covering every cited line
  (`{"path", "line_start", "line_end"}` or `{"path", "line"}` anywhere in a JSON result: evidence, diagnostics,
  search hits, and `read_file`'s excerpt), or contains the same `path:line` text. A shortened path is accepted
  when it is the tail of the tool's path (`ci.yml:3` for `.github/workflows/ci.yml:3`).
* **A number**: an integer, a decimal, a percentage, a number with a unit (`30m`, `4GB`), a date (`2026-11-30`) or a
  version (`3.11.2`). Supported when the same value is a number in some tool result. Rounding is accepted at the
  precision the report wrote: `12.3` is supported by `12.34`, `26` by `25.6` (|tool - claim| <= half a unit of the
  claim's last digit). A percentage `p%` is also supported by the ratio `p/100` (`45%` by `0.45`). Dates and versions
  must appear as written.

What is not a claim: numbers inside identifiers (`sha256`, `ubuntu-22.04`, a plan hash), the numbering of headings,
list items and "Step 2" / "Phase 3" ordinals, anything in fenced code blocks (diffs and configuration: the validators
check those, and they come from `generate_automation`), and the numbers of the "Sources" section (they are the
arguments of the tool calls listed there; its `path:line` citations are still checked).

Known limits (it is a lexical check): a small integer is very likely to appear somewhere in a large tool result, so
an invented "3" can pass; a number that is supported in one context may be misused in another. The check proves
that a number was seen, not that it was used correctly.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Literal

from pydantic import BaseModel, Field, computed_field

ClaimKind = Literal["number", "location"]
ClaimStatus = Literal["supported", "labelled", "unsupported"]

# A label anywhere in the sentence (or table cell) exempts its numbers: the report says they are not measurements.
LABEL = re.compile(r"\b(assum(?:ption|ptions|ed|es|ing)?|estimat(?:e|es|ed|ion)|goals?|not measured)\b", re.IGNORECASE)
# One character class before the colon, and no match may start inside a word, so a long word costs linear time (a
# class of letters between two classes that also hold letters backtracks cubically). The path must hold a letter:
# checked in code (`_is_path`).
LOCATION = re.compile(
    r"(?<![\w/.@:+-])(?P<path>[\w.@+/-]+):(?P<start>\d+)(?:-(?P<end>\d+))?(?![\d:]|\.\d|[A-Za-z_])"
)
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?$")
NUMBER = re.compile(r"^[-+]?(?P<value>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?P<unit>%|[A-Za-z]{1,5})?$")
VERSION = re.compile(r"^v?\d+(?:\.\d+){2,}$")
UNITS = frozenset({
    "ms", "s", "sec", "secs", "m", "min", "mins", "h", "hr", "hrs", "d", "w", "x", "k", "kb", "mb", "gb", "tb",
    "b", "ki", "mi", "gi", "kib", "mib", "gib", "y", "yr", "yrs",
})  # not st/nd/rd/th: "1st" is an ordinal
PREFIXES = "~≈$€£"  # "~30%", "$0.45": the number is still a claim
ORDINAL_WORDS = frozenset({"step", "phase", "stage", "part", "option", "section", "round", "tier", "level", "no", "#"})
WORD = re.compile(r"[^\s\x00-\x1f|`*_()\[\]{}<>\"';!?]+")
CORPUS_NUMBER = re.compile(r"(?<!\d)\d+(?:\.\d+)*")
CORPUS_LOCATION = re.compile(r"(?<![\w/.@:+-])([\w.@+/-]+):(\d+)(?:-(\d+))?")
HAS_LETTER = re.compile(r"[A-Za-z_]")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(?:\d+(?:\.\d+)*\.?\s+)?(.*)$")
LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[*`])")
FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}")
MAX_REPORT_CHARS = 2_000_000


class Claim(BaseModel):
    """One number or location the report states, where it stands, and whether a tool result backs it."""

    kind: ClaimKind
    text: str = Field(description="The claim as written in the report.")
    sentence: str = Field(description="The sentence (or table cell) the claim stands in.")
    line: int = Field(description="Line of the report (1-based).")
    status: ClaimStatus
    label: str | None = Field(default=None, description="The word that labels it (assumption, estimate, ...).")


class GroundingResult(BaseModel):
    """The check's verdict: counts, and every unsupported claim with its sentence."""

    claims: int
    supported: int
    labelled: int
    unsupported: int
    grounded: bool = Field(description="True when no claim is unsupported.")
    unsupported_claims: list[Claim]
    all_claims: list[Claim]
    tool_results: int = Field(description="How many tool results the claims were checked against.")
    rule: str = ("Every number and path:line must appear in a tool result of the run, or its sentence must label it "
                 "an assumption, estimate, goal or 'not measured'.")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def score(self) -> float:
        """A grader's partial credit: (supported + labelled) / claims, 1.0 for a report without claims."""
        return round((self.supported + self.labelled) / self.claims, 4) if self.claims else 1.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def offending_sentences(self) -> list[str]:
        """The distinct sentences that hold unsupported claims, in report order."""
        return list(dict.fromkeys(c.sentence for c in self.unsupported_claims))


# ---------------------------------------------------------------- the tool results: what is known


@dataclass
class Evidence:
    """What the tool results of a run contain: numbers (exact strings and values), locations, and the raw text."""

    texts: list[str] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    values: list[float] = field(default_factory=list)  # sorted after `freeze`
    ranges: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    literals: set[str] = field(default_factory=set)

    @classmethod
    def from_results(cls, results: Iterable[str]) -> Evidence:
        evidence = cls()
        for text in results:
            evidence.add(text)
        evidence.values.sort()
        return evidence

    def add(self, text: str) -> None:
        self.texts.append(text)
        for match in CORPUS_NUMBER.finditer(text):
            token = match.group(0)
            self.tokens.add(token)
            value = _value(token)
            if value is not None:
                self.values.append(value)
        for match in CORPUS_LOCATION.finditer(text):
            if not HAS_LETTER.search(match.group(1)):
                continue
            start, end = _line_number(match.group(2)), _line_number(match.group(3) or match.group(2))
            if start is None or end is None:
                continue
            self.literals.add(match.group(0))
            self._range(match.group(1), start, end)
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError):
            return
        for path, start, end in _json_locations(parsed):
            self._range(path, start, end)

    def _range(self, path: str, start: int, end: int) -> None:
        self.ranges.setdefault(_norm_path(path), []).append((start, max(start, end)))

    def has_date(self, text: str) -> bool:
        return any(text in t for t in self.texts)

    def has_number(self, literal: str, value: float, decimals: int, percent: bool) -> bool:
        if literal in self.tokens:
            return True
        candidates = [value] + ([value / 100] if percent else [])
        for index, target in enumerate(candidates):
            places = decimals + (2 if index == 1 else 0)
            tolerance = 0.5 * 10 ** (-places) + 1e-9
            lo = bisect.bisect_left(self.values, target - tolerance)
            if lo < len(self.values) and self.values[lo] <= target + tolerance:
                return True
        return False

    def has_location(self, path: str, start: int, end: int) -> bool:
        if f"{path}:{start}" in self.literals and start == end:
            return True
        wanted = _norm_path(path)
        spans = [span for known, found in self.ranges.items() if known == wanted or known.endswith("/" + wanted)
                 for span in found]
        return all(any(lo <= line <= hi for lo, hi in spans) for line in (start, end))


def _json_locations(value: object, depth: int = 0) -> Iterator[tuple[str, int, int]]:
    """(path, start, end) of every object with a `path` and a `line_start` (or `line`) in parsed JSON."""
    if depth > 64:
        return
    if isinstance(value, dict):
        path = value.get("path")
        start = value.get("line_start", value.get("line"))
        if isinstance(path, str) and isinstance(start, int) and not isinstance(start, bool):
            end = value.get("line_end")
            yield path, start, end if isinstance(end, int) and not isinstance(end, bool) else start
        for item in value.values():
            yield from _json_locations(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _json_locations(item, depth + 1)


def _norm_path(path: str) -> str:
    path = path.strip("`'\"")
    while path.startswith("./"):
        path = path[2:]
    return path


def _value(token: str) -> float | None:
    if token.count(".") > 1:
        return None
    try:
        return float(Decimal(token))
    except (InvalidOperation, ValueError):
        return None


# ---------------------------------------------------------------- the report: what is claimed


@dataclass(frozen=True)
class Unit:
    """A sentence or a table cell of the report: the scope of a label."""

    text: str
    line: int
    section: str


def report_units(report: str) -> Iterator[Unit]:
    """The report's sentences and table cells, outside fenced code, with heading numbers and list markers removed."""
    in_fence: str | None = None
    section = ""
    for number, raw in enumerate(report.splitlines(), start=1):
        fence = FENCE.match(raw)
        if fence:
            marker = fence.group(1)[0] * 3
            if in_fence is None:
                in_fence = marker
            elif marker == in_fence:
                in_fence = None
            continue
        if in_fence is not None or not raw.strip():
            continue
        heading = HEADING.match(raw)
        if heading:
            section = heading.group(2).strip()
            yield Unit(section, number, section)
            continue
        line = raw.strip()
        if line.startswith("|") or line.count("|") >= 2:
            if TABLE_SEPARATOR.match(line):
                continue
            for cell in line.strip("|").split("|"):
                if cell.strip():
                    yield Unit(cell.strip(), number, section)
            continue
        line = LIST_ITEM.sub("", line, count=1).lstrip("> ")
        for sentence in SENTENCE_END.split(line):
            if sentence.strip():
                yield Unit(sentence.strip(), number, section)


Location = tuple[str, int, int]


def claims_in(unit: Unit) -> Iterator[tuple[ClaimKind, str, Location | Parsed]]:
    """The claims of one unit: ("location", text, (path, start, end)) and ("number", text, parsed)."""
    text = unit.text
    masked = list(text)
    for match in LOCATION.finditer(text):
        path = match.group("path")
        if not HAS_LETTER.search(path):
            continue
        if "//" in text[max(0, match.start() - 8):match.end()] or path.lower().startswith(("http", "www.")):
            continue
        start, end = _line_number(match.group("start")), _line_number(match.group("end") or match.group("start"))
        if start is None or end is None:
            continue  # no line number: its digits are read as a number below
        yield "location", match.group(0), (path, start, end)
        masked[match.start():match.end()] = " " * (match.end() - match.start())
    if unit.section.strip().lower().startswith("sources"):
        return  # tool arguments, not claims
    previous = ""
    for match in WORD.finditer("".join(masked)):
        word = match.group(0).strip(".:,").lstrip(PREFIXES)
        for part in _parts(word):
            parsed = _number(part)
            if parsed is not None and previous.lower().rstrip(":") not in ORDINAL_WORDS:
                yield "number", part, parsed
        previous = word


def _parts(word: str) -> list[str]:
    """A range (`10-20`) or a ratio (`3/4`) is two numbers; anything else is one word."""
    for sep in ("-", "/", "–"):
        pieces = word.split(sep)
        if len(pieces) > 1 and all(NUMBER.match(p) for p in pieces) and not DATE.match(word):
            return pieces
    return [word]


@dataclass(frozen=True)
class Parsed:
    literal: str
    value: float | None
    decimals: int
    percent: bool
    exact: bool  # dates and versions: matched as written


def _line_number(digits: str) -> int | None:
    """The line number a location writes; None past int()'s digit limit (sys.get_int_max_str_digits, 4,300 by
    default), where int() raises ValueError: check-report took it for bad input and stopped with Python's message
    (exit 2) on a report or tool result citing `file:` and 5,000 digits (found by a hostile-input hunt)."""
    try:
        return int(digits)
    except ValueError:
        return None


def _number(word: str) -> Parsed | None:
    if DATE.match(word):
        return Parsed(word, None, 0, False, True)
    if VERSION.match(word):
        return Parsed(word.lstrip("v"), None, 0, False, True)
    match = NUMBER.match(word)
    if not match:
        return None
    unit = match.group("unit")
    if unit and unit != "%" and unit.lower() not in UNITS:
        return None  # an identifier such as 3f9a, 2xx
    literal = match.group("value").replace(",", "")
    value = _value(literal)
    decimals = len(literal.split(".")[1]) if "." in literal else 0
    return Parsed(literal, value, decimals, unit == "%", False)


# ---------------------------------------------------------------- the check


def check_grounding(report: str, tool_results: Iterable[str]) -> GroundingResult:
    """Check every number and `path:line` of `report` (Markdown) against `tool_results` (the text of each tool
    result of the run); see the module docstring for the rules."""
    if len(report) > MAX_REPORT_CHARS:
        raise ValueError(f"The report is {len(report):,} characters; the check reads at most {MAX_REPORT_CHARS:,}.")
    evidence = Evidence.from_results(tool_results)
    claims: list[Claim] = []
    for unit in report_units(report):
        label_match = LABEL.search(unit.text)
        label = label_match.group(1).lower() if label_match else None
        for kind, text, parsed in claims_in(unit):
            if _supported(evidence, parsed):
                status: ClaimStatus = "supported"
            elif label is not None and kind == "number":
                status = "labelled"
            else:
                status = "unsupported"
            claims.append(Claim(kind=kind, text=text, sentence=unit.text, line=unit.line, status=status,
                                label=label if status == "labelled" else None))
    unsupported = [c for c in claims if c.status == "unsupported"]
    return GroundingResult(
        claims=len(claims), supported=sum(c.status == "supported" for c in claims),
        labelled=sum(c.status == "labelled" for c in claims), unsupported=len(unsupported),
        grounded=not unsupported, unsupported_claims=unsupported, all_claims=claims,
        tool_results=len(evidence.texts),
    )


def _supported(evidence: Evidence, parsed: Location | Parsed) -> bool:
    if not isinstance(parsed, Parsed):
        return evidence.has_location(*parsed)
    if parsed.exact or parsed.value is None:
        return evidence.has_date(parsed.literal)
    return evidence.has_number(parsed.literal, parsed.value, parsed.decimals, parsed.percent)


def revision_request(result: GroundingResult, *, limit: int = 40) -> str:
    """The user message of the revision turn: each unsupported claim with its sentence, and what to do about it."""
    lines = [
        f"The grounding check found {result.unsupported} claim{'s' if result.unsupported != 1 else ''} in your report "
        "that no tool result of this run contains. For each one: call the tool that measures it and cite the result, "
        "or label it (assumption, estimate, goal, or \"not measured\"), or remove it. Then write the whole report "
        "again with the same templates.",
        "",
    ]
    for claim in result.unsupported_claims[:limit]:
        lines.append(f"- {claim.kind} `{claim.text}` (report line {claim.line}): \"{claim.sentence}\"")
    if result.unsupported > limit:
        lines.append(f"- ... and {result.unsupported - limit} more")
    return "\n".join(lines)
