"""Reading a design from YAML or JSON text, a dict or a file, with clear errors that say where.

Every problem is reported with a JSON-pointer-like location (`/states/2/retry/0/max_attempts`) and, when the design
came as text, its line. Limits keep hostile input cheap: size, nesting depth, the number of values after YAML
aliases are expanded (a "billion laughs" document), and the number of states.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..datatext import load_json
from ..errors import InputError
from ..yamlsrc import YamlError, YMap, YSeq, load_yaml_documents
from .model import STATE_TYPES, WorkflowDesign

MAX_DESIGN_BYTES = 1024 * 1024
MAX_DEPTH = 64  # nesting of mappings and lists; a parallel inside a parallel costs 4 levels
MAX_VALUES = 200_000  # values after alias expansion
MAX_STATES = 5_000
MAX_PROBLEMS_SHOWN = 20


class LoadProblem(BaseModel):
    """One reason a design could not be read."""

    location: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.location or "/"
        return f"{where}: {self.message}" + (f" (line {self.line})" if self.line else "")


class DesignInputError(InputError):
    """The design cannot be read: not YAML/JSON, wrong shape, wrong types, unknown fields, too big or too deep."""

    def __init__(self, summary: str, problems: list[LoadProblem] | None = None, source: str | None = None) -> None:
        self.problems = problems or []
        self.summary = summary
        lines = [f"{source}: {summary}" if source else summary]
        lines += [f"  {p}" for p in self.problems[:MAX_PROBLEMS_SHOWN]]
        if len(self.problems) > MAX_PROBLEMS_SHOWN:
            lines.append(f"  ... and {len(self.problems) - MAX_PROBLEMS_SHOWN} more")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class LoadedDesign:
    """A design and the data it was read from (which knows the lines, when it came from text)."""

    design: WorkflowDesign
    raw: Any = None
    source: str | None = None

    def line(self, pointer: str) -> int | None:
        """The 1-based line where `pointer` (or its nearest existing parent) was written; None without text."""
        return line_of(self.raw, pointer)


DesignInput = WorkflowDesign | Mapping[str, Any] | str


def load_design(design: DesignInput, *, source: str | None = None) -> LoadedDesign:
    """A design from a model, a dict (parsed JSON) or YAML/JSON text. Raises DesignInputError, never anything else."""
    from .saga_chain import expand_sagas  # it raises this module's errors

    if isinstance(design, WorkflowDesign):
        return LoadedDesign(design=expand_sagas(design), raw=None, source=source)
    if isinstance(design, str):
        raw = parse_text(design, source=source)
    elif isinstance(design, Mapping):
        raw = design
    else:
        raise DesignInputError(
            f"a design is YAML or JSON text or a mapping, not {type(design).__name__}", source=source
        )
    return LoadedDesign(design=expand_sagas(validate_data(raw, source=source)), raw=raw, source=source)


def load_design_file(path: Path | str) -> LoadedDesign:
    """Read a design file (YAML or JSON, UTF-8, at most MAX_DESIGN_BYTES; `-` is standard input)."""
    return load_design(read_design_text(path), source=str(path))


def read_design_text(path: Path | str) -> str:
    """The text of a design file (`-` reads standard input), refusing what is not a small UTF-8 regular file."""
    name = str(path)
    try:
        if name == "-":
            data = sys.stdin.buffer.read(MAX_DESIGN_BYTES + 1)
        else:
            path = Path(path)
            if not path.exists():
                raise InputError(f"Path '{name}' does not exist.")
            if not path.is_file():
                raise InputError(f"Path '{name}' is not a regular file.")
            with path.open("rb") as fh:  # read at most one byte past the limit, whatever stat() says
                data = fh.read(MAX_DESIGN_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read '{name}': {exc.strerror or exc}") from None
    if len(data) > MAX_DESIGN_BYTES:
        raise DesignInputError(f"the design is larger than the limit of {MAX_DESIGN_BYTES} bytes", source=name)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DesignInputError(f"not UTF-8 text (byte {exc.start})", source=name) from None


def _too_big(size: int) -> str:
    return f"the design is {size} bytes; the limit is {MAX_DESIGN_BYTES} bytes"


def parse_text(text: str, *, source: str | None = None) -> Any:
    """YAML or JSON text -> data with line spans. JSON is read as YAML (to know lines), falling back to `json`."""
    size = len(text) if len(text) * 4 <= MAX_DESIGN_BYTES else len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_DESIGN_BYTES:
        raise DesignInputError(_too_big(size), source=source)
    if "\x00" in text:
        raise DesignInputError("the text contains NUL characters (binary data?)", source=source)
    try:
        documents = load_yaml_documents(text)
    except YamlError as exc:
        if text.lstrip().startswith(("{", "[")):
            try:
                documents = [load_json(text)]
            except (json.JSONDecodeError, RecursionError) as json_exc:
                raise DesignInputError(f"invalid JSON: {json_exc}", source=source) from None
        else:
            raise DesignInputError(str(exc), source=source) from None
    if not documents:
        raise DesignInputError("the design is empty", source=source)
    if len(documents) > 1:
        raise DesignInputError(f"expected one YAML document, found {len(documents)}", source=source)
    problems = _duplicate_keys(text)
    if problems:
        raise DesignInputError("the same key is written twice in a mapping", problems, source=source)
    return documents[0]


def _duplicate_keys(text: str) -> list[LoadProblem]:
    """Keys written twice in one mapping (YAML keeps the last silently; in a design that hides a mistake)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        root = yaml.compose(text, Loader=loader)
    except (yaml.YAMLError, RecursionError):
        return []  # already parsed once by the caller; JSON-only syntax lands here and json.loads handled it
    problems: list[LoadProblem] = []
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, str]] = [(root, "")] if root is not None else []
    while stack:
        node, pointer = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
                if key is not None and key != "<<":
                    if key in keys:
                        problems.append(
                            LoadProblem(
                                location=f"{pointer}/{_escape(key)}",
                                message=f"key '{key}' is written more than once",
                                line=key_node.start_mark.line + 1,
                            )
                        )
                    keys.add(key)
                stack.append((value_node, f"{pointer}/{_escape(str(key))}"))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((child, f"{pointer}/{i}") for i, child in enumerate(node.value))
    return sorted(problems, key=lambda p: p.line or 0)


def validate_data(raw: Any, *, source: str | None = None) -> WorkflowDesign:
    """Parsed data -> WorkflowDesign, after the size and shape guards. Raises DesignInputError."""
    if not isinstance(raw, Mapping):
        raise DesignInputError(
            f"a design is a mapping (a JSON object) at the top, not {_kind(raw)}", source=source
        )
    _check_shape(raw, source)
    try:
        design = WorkflowDesign.model_validate(raw)
    except ValidationError as exc:
        problems = [_problem(raw, error) for error in exc.errors(include_url=False, include_input=False)]
        count = len(problems)
        raise DesignInputError(
            f"{count} problem{'s' if count != 1 else ''} with the design's fields", problems, source=source
        ) from None
    except RecursionError:
        raise DesignInputError(f"the design is nested too deeply (limit {MAX_DEPTH} levels)", source=source) from None
    return design


def _kind(value: Any) -> str:
    if value is None:
        return "empty (null)"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__} value"


def _check_shape(raw: Any, source: str | None) -> None:
    """Depth, alias-expanded size, cycles and state count, in one iterative walk (no recursion to exhaust).

    Aliased values are shared objects: their expanded size is memoised per object, so a billion-laughs document
    costs one visit per distinct object, and the total is what pydantic would have to walk."""
    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(raw, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            children = _children(node)
            sizes[key] = 1 + sum(sizes.get(id(c), 1) for c in children)
            depths[key] = 1 + max((depths.get(id(c), 0) for c in children), default=0)
            on_path.discard(key)
            if depths[key] > MAX_DEPTH:
                raise DesignInputError(f"the design is nested too deeply (limit {MAX_DEPTH} levels)", source=source)
            if sizes[key] > MAX_VALUES:
                raise DesignInputError(
                    f"the design expands to more than {MAX_VALUES} values (YAML aliases?)", source=source
                )
            continue
        if not isinstance(node, Mapping | list) or key in sizes:
            continue
        if key in on_path:
            raise DesignInputError("the design refers to itself (a recursive YAML alias)", source=source)
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node))
    states = _count_states(raw)
    if states > MAX_STATES:
        raise DesignInputError(f"the design has {states} states; the limit is {MAX_STATES}", source=source)


def _children(node: Any) -> list[Any]:
    if isinstance(node, Mapping):
        return [v for v in node.values() if isinstance(v, Mapping | list)]
    if isinstance(node, list):
        return [v for v in node if isinstance(v, Mapping | list)]
    return []


def _count_states(raw: Mapping[str, Any]) -> int:
    count = 0
    stack: list[Any] = [raw.get("states")]
    while stack:
        states = stack.pop()
        if not isinstance(states, list):
            continue
        count += len(states)
        for state in states:
            if isinstance(state, Mapping) and isinstance(state.get("branches"), list):
                stack.extend(b.get("states") for b in state["branches"] if isinstance(b, Mapping))
            if isinstance(state, Mapping) and isinstance(state.get("processor"), Mapping):
                stack.append(state["processor"].get("states"))
    return count


_MESSAGES = {
    "missing": "required field is missing",
    "extra_forbidden": "unknown field (not in the design schema; see `orchestrator-kit design schema`)",
}


def _problem(raw: Any, error: Any) -> LoadProblem:
    pointer = _pointer_from_loc(raw, error["loc"])
    message = _MESSAGES.get(error["type"], error["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return LoadProblem(location=pointer, message=message, line=line_of(raw, pointer))


def _pointer_from_loc(raw: Any, loc: tuple[Any, ...]) -> str:
    """pydantic's error location -> a pointer into the data, without the union tags pydantic inserts."""
    parts: list[str] = []
    node = raw
    for segment in loc:
        if isinstance(node, Mapping) and segment not in node and (segment in STATE_TYPES or "[" in str(segment)):
            continue  # a discriminated-union tag or a validator name, not a place in the data
        parts.append(_escape(str(segment)))
        if isinstance(node, Mapping):
            node = node.get(segment) if segment in node else node.get(_alias(segment))
        elif isinstance(node, list) and isinstance(segment, int) and 0 <= segment < len(node):
            node = node[segment]
        else:
            node = None
    return "/" + "/".join(parts) if parts else ""


def _alias(segment: Any) -> Any:
    return "not" if segment == "not_" else segment


def _escape(token: str) -> str:
    """RFC 6901 escaping of one pointer token."""
    return token.replace("~", "~0").replace("/", "~1")


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def line_of(raw: Any, pointer: str) -> int | None:
    """The line of the deepest part of `pointer` that exists in `raw` (data from `yamlsrc`, which knows lines)."""
    if not isinstance(raw, YMap | YSeq):
        return None
    line: int | None = raw.span[0]
    node: Any = raw
    for token in (_unescape(t) for t in pointer.split("/")[1:] if pointer):
        if isinstance(node, YMap):
            if token not in node:
                break
            line = node.key_line(token)
            node = node[token]
        elif isinstance(node, YSeq) and token.isdigit() and int(token) < len(node):
            line = node.item_span(int(token))[0]
            node = node[int(token)]
        else:
            break
    return line
