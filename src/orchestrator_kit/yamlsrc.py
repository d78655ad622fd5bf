"""YAML that remembers where each value was written.

`load_yaml_documents(text)` parses with PyYAML's safe loader (the C parser when available; no Python objects
are ever constructed from tags) and returns plain `dict`/`list` subclasses that carry 1-based line spans:

* `YMap.span` / `YSeq.span`: the lines of the whole mapping or sequence;
* `YMap.key_span(key)`: from the key's line to the end of its value;
* `YSeq.item_span(i)`: the lines of item i.

Two deliberate differences from PyYAML's defaults, both to read CI files as their tools do:

* plain scalars are typed closer to YAML 1.2 (GitHub Actions, Go's yaml v3 for Compose and Taskfile): booleans
  are `true`/`false` only, so GitHub's `on:` stays the string "on" (YAML 1.1 reads on/off/yes/no as booleans); a
  plain yes/no/on/off value is a `Yaml11Flag`, a string that `yaml11_bool` reads as YAML 1.1 tools do (GitLab,
  Bitbucket, CircleCI, pre-commit, kubectl); `go_yaml_bool` and `word_bool` read a flag as the tools that convert
  a string into a boolean field do (Task with go-yaml; Compose and Azure Pipelines from its text);
  `22:22` is a string, not the base-60 number 1342; a plain `=`, and a plain `<<` anywhere but as a key, is a
  string (PyYAML cannot construct either);
* unknown tags (GitLab's `!reference`, CloudFormation's `!Ref`, Ansible's `!vault`) load as their plain
  value wrapped in `Tagged`, instead of failing the whole file.

Merge keys (`<<: *anchor`) are resolved. Aliases share one object, so a "billion laughs" document costs no
memory; callers never walk a document recursively without a bound.
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from .limits import note_exhausted

try:
    _BaseLoader: Any = yaml.CSafeLoader  # type: ignore[attr-defined]
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader

Span = tuple[int, int]


class YMap(dict):  # type: ignore[type-arg]
    """A mapping with line spans. Keys that YAML gives as unhashable values are stringified."""

    span: Span = (1, 1)
    key_spans: dict[Any, Span]

    def key_span(self, key: Any, default: Span | None = None) -> Span:
        spans: dict[Any, Span] = getattr(self, "key_spans", {})
        return spans.get(key, default or self.span)

    def key_line(self, key: Any) -> int:
        return self.key_span(key)[0]


class YSeq(list):  # type: ignore[type-arg]
    """A sequence with line spans per item."""

    span: Span = (1, 1)
    item_spans: list[Span]

    def item_span(self, index: int) -> Span:
        spans = getattr(self, "item_spans", [])
        return spans[index] if 0 <= index < len(spans) else self.span


@dataclass(frozen=True)
class Tagged:
    """A value written with an application tag, e.g. `!reference [.setup, script]`."""

    tag: str
    value: Any

    def __str__(self) -> str:
        return f"{self.tag} {self.value}"


class _Loader(_BaseLoader):  # type: ignore[misc]
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.source_lines = stream.split("\n")


# PyYAML's resolvers are YAML 1.1's and per class: copy them without those that read a plain scalar otherwise than
# the tools whose files we read (YAML 1.2 parsers: GitHub Actions, Go's yaml for Kubernetes and Compose), then add
# their replacements. Gone: the booleans yes/no/on/off (only true/false), base-60 numbers (`ports: [22:22]` is
# the string "22:22", not 1342; `1:30` not 90) and the `=` "value" type, which PyYAML cannot even construct (a
# CRD whose enum lists `- =` was rejected as invalid YAML). Octal `0644`, `0b`, `0x` and `_` in numbers stay, but a
# `0b` or `0x` number needs a digit: `0x_` was an int to YAML 1.1's pattern that int() cannot read (the whole file
# was invalid YAML), and is a string to the YAML 1.2 tools.
_BOOL, _INT, _FLOAT = "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_REPLACEMENTS = {
    _BOOL: (re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), "tTfF"),
    # YAML 1.1's float and int patterns without their base-60 alternatives.
    _FLOAT: (re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
                    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
                    |[-+]?\.(?:inf|Inf|INF)
                    |\.(?:nan|NaN|NAN))$""", re.X), "-+0123456789."),
    _INT: (re.compile(r"""^(?:[-+]?0b_*[0-1][0-1_]*
                    |[-+]?0[0-7_]+
                    |[-+]?(?:0|[1-9][0-9_]*)
                    |[-+]?0x_*[0-9a-fA-F][0-9a-fA-F_]*)$""", re.X), "-+0123456789"),
}
# Each replacement takes its place in PyYAML's lists (the order they are tried in: a digit's scalar meets the float
# and int patterns before the longer timestamp one), under the first characters it can match; `=` has none left.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, _REPLACEMENTS[tag][0] if tag in _REPLACEMENTS else regexp) for tag, regexp in resolvers
            if tag != "tag:yaml.org,2002:value" and (tag not in _REPLACEMENTS or first in _REPLACEMENTS[tag][1])]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
# YAML 1.1's other booleans, written plain: strings here (see `Yaml11Flag`), marked for the YAML 1.1 readers. y/n
# too: go-yaml v2 (kubectl) reads them as booleans, PyYAML, SnakeYAML and Psych do not.
_FLAG_TAG = "tag:orchestrator-kit,2026:yaml-1.1-boolean"
_Loader.add_implicit_resolver(
    _FLAG_TAG, re.compile(r"^(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|y|Y|n|N)$"), list("yYnNoO"))


def _span(loader: _Loader, node: yaml.Node) -> Span:
    """1-based first and last line of a node, without the blank or comment lines that trail it.

    A block node's end mark sits at the next token, so the last line is found by walking back from there
    over lines that hold nothing of this node (only spaces, or a comment).
    """
    start = node.start_mark.line + 1
    end_line = node.end_mark.line  # 0-based
    lines = loader.source_lines
    if end_line < len(lines) and lines[end_line][: node.end_mark.column].strip():
        return start, max(start, end_line + 1)
    end_line -= 1
    while end_line > node.start_mark.line and end_line < len(lines):
        stripped = lines[end_line].strip()
        if stripped and not stripped.startswith("#"):
            break
        end_line -= 1
    return start, max(start, end_line + 1)


def _hashable(key: Any) -> Any:
    try:
        hash(key)
    except TypeError:
        return str(key)
    return key


_STR_TAG = "tag:yaml.org,2002:str"


def _construct(loader: _Loader, node: yaml.Node) -> Any:
    """`loader.construct_object(node, deep=True)`; for a plain string scalar (most keys and values) its result,
    the node's own value, without the lookups and bookkeeping around it (the cache it skips serves aliases,
    which for a string give an equal string)."""
    if node.__class__ is yaml.ScalarNode and node.tag == _STR_TAG:
        return node.value
    return loader.construct_object(node, deep=True)


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> YMap:
    loader.flatten_mapping(node)
    result = YMap()
    result.span = _span(loader, node)
    result.key_spans = {}
    key_spans = result.key_spans
    for key_node, value_node in node.value:
        key = key_node.value if key_node.tag == _FLAG_TAG else _construct(loader, key_node)  # `on:` stays a str
        if key.__class__ is not str:
            key = _hashable(key)
        result[key] = value = _construct(loader, value_node)
        key_line = key_node.start_mark.line + 1
        key_spans[key] = (key_line, max(key_line, _node_span(loader, value_node, value)[1]))
    return result


def _node_span(loader: _Loader, node: yaml.Node, value: Any) -> Span:
    """`_span(loader, node)` where `value` was constructed from `node`: a mapping or sequence already holds it
    (an alias's value too: the alias is the anchored node itself)."""
    if value.__class__ is YMap or value.__class__ is YSeq:
        return value.span  # type: ignore[no-any-return]
    return _span(loader, node)


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> YSeq:
    result = YSeq(_construct(loader, child) for child in node.value)
    result.span = _span(loader, node)
    result.item_spans = [_node_span(loader, child, value) for child, value in zip(node.value, result, strict=True)]
    return result


def _construct_tagged(loader: _Loader, tag_suffix: str, node: yaml.Node) -> Tagged:
    value: Any
    if isinstance(node, yaml.MappingNode):
        value = _construct_map(loader, node)
    elif isinstance(node, yaml.SequenceNode):
        value = _construct_seq(loader, node)
    else:
        value = loader.construct_scalar(node)
    return Tagged(tag="!" + tag_suffix, value=value)


def _construct_timestamp_as_text(loader: _Loader, node: yaml.ScalarNode) -> str:
    # Dates stay as written: `2024-01-01` in a values file is a string to every tool we read for.
    return str(loader.construct_scalar(node))


def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> int:
    """PyYAML's int constructor without YAML 1.1's base 60: `!!int 1:30` is not an integer, as in YAML 1.2 (GitHub
    Actions, Go's yaml) and as the plain `1:30` is a string here (the resolvers above), so only an explicit tag
    reaches this. PyYAML built one with a multiplication of the whole value per part: `!!int 1:59:59:...` of 2,500
    parts was an integer that str() refuses ("internal error in detector" at its first f-string), and the time grew
    with the square of the parts (160,000 parts, 320 KB: 2 s of CPU)."""
    if ":" in node.value:
        raise yaml.constructor.ConstructorError(None, None, "a value tagged !!int is not an integer", node.start_mark)
    value: int = loader.construct_yaml_int(node)
    return value


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
def _construct_merge_as_text(loader: _Loader, node: yaml.ScalarNode) -> str:
    # A plain `<<` that is not a key (`args: [--op, <<]`): YAML 1.1's merge type means something only as a key,
    # where `flatten_mapping` takes it before anything is built. Elsewhere PyYAML has no constructor for it and the
    # whole file was invalid YAML; the YAML 1.2 tools we read for read the string, as for a plain `=`.
    return str(loader.construct_scalar(node))


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp_as_text)
_Loader.add_constructor("tag:yaml.org,2002:merge", _construct_merge_as_text)
_Loader.add_constructor(_FLAG_TAG, lambda loader, node: Yaml11Flag(node.value))
_Loader.add_multi_constructor("!", _construct_tagged)
_Loader.add_multi_constructor("tag:yaml.org,2002:python/", _construct_tagged)


class _LongIntLoader(_Loader):
    """`_Loader` for a text that may hold an integer in base 2, 8 or 16 of more decimal digits than str() writes
    (`sys.get_int_max_str_digits`, 4,300 by default): int() reads those bases without a limit, so the value loads
    and every later f-string, `str` or `json.dumps` of it raises ValueError (a workflow, manifest or chart with
    `0x` and 5,000 digits was "internal error in detector" in nine detectors; found by a hostile-input hunt).
    Here such an integer is invalid YAML at its line. Only texts `_loader_class` picks: `_Loader` is unchanged."""


def _construct_int_within_limit(loader: _LongIntLoader, node: yaml.ScalarNode) -> int:
    value = _construct_int(loader, node)
    limit = sys.get_int_max_str_digits()
    if limit and value.bit_length() > limit * 3.32:  # at most 3.32 * limit bits: at most `limit` digits
        try:
            str(value)
        except ValueError:
            raise yaml.constructor.ConstructorError(
                None, None, f"an integer of more than {limit} decimal digits", node.start_mark) from None
    return value


_LongIntLoader.add_constructor("tag:yaml.org,2002:int", _construct_int_within_limit)


@functools.lru_cache(maxsize=4)
def _long_based_int(limit: int) -> re.Pattern[str]:
    """Text that may be an integer past `limit` decimal digits in base 16, 2 or 8 (YAML 1.1's `0x`, `0b` and `0`
    prefixes): at least limit / log10(base) digits after the prefix (underscores only add characters). Decimal ones
    need no search: int() refuses them while loading. The literal `0` leads, so the search skips to each `0`; the
    look-behind (no letter, digit or `_` before it) starts a match only where a number starts, which keeps it linear
    in the text."""
    hexadecimal, binary, octal = (math.floor(limit / math.log10(base)) for base in (16, 2, 8))
    return re.compile(rf"0(?<![\w]0)(?:[xX][0-9a-fA-F_]{{{hexadecimal},}}|[bB][01_]{{{binary},}}|[0-7_]{{{octal},}})")


def _loader_class(text: str) -> type[_Loader]:
    limit = sys.get_int_max_str_digits()
    return _LongIntLoader if limit and _long_based_int(limit).search(text) is not None else _Loader


class YamlError(ValueError):
    """A document that is not valid YAML; `line` is 1-based when the parser knows it."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


def load_yaml_documents(text: str) -> list[Any]:
    """Every document of a YAML stream, with line spans. Raises YamlError with the parser's line."""
    with _as_yaml_error(text):
        documents = [doc for doc in yaml.load_all(text, Loader=_loader_class(text)) if doc is not None]
    return documents


@contextlib.contextmanager
def _as_yaml_error(text: str, value: yaml.Node | None = None) -> Iterator[None]:
    """PyYAML's errors, and Python's that its constructors let through, as YamlError with the line. `value`: the
    node being built, when it is one value of the stream (`YamlDocument.get`), not the whole stream."""
    try:
        yield
    except YamlError:
        raise  # from an inner one (a ValueError too): already with its line
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlError(f"invalid YAML: {problem}" + (f" (line {line})" if line else ""), line) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"invalid YAML: {exc}", None) from None
    except RecursionError:
        note_exhausted()  # how deep the caller's stack already was decided it (see `limits.note_exhausted`)
        raise YamlError("invalid YAML: nesting too deep", None) from None
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        # PyYAML's constructors let these through for a scalar tagged with a standard type that its text is not a
        # value of (`!!int abc`, `!!float x`, `!!bool maybe`, `!!int ''`), a collection tag on the other kind of
        # node (`!!seq x`, `!!map [a]`) and an integer past int()'s digit limit: invalid YAML, which no caller
        # expects as a Python error (a hostile workflow file became "internal error in detector", a design file a
        # crash). Found again here, off the path of valid documents, for its line: within the value being built,
        # when it is one (the stream's first may be in a value never read, another key's or another document's). A
        # new loader: the document's own still holds the failed nodes as being built.
        error = _mistyped_scalar(text) if value is None else _mistyped_error(_first_mistyped(_Loader(""), value))
        raise error from None


class YamlDocument:
    """A document's top-level mapping whose values are built when first read (`get`), with the lines of the whole
    mapping in `span`. For a reader of a few keys of large documents: a CustomResourceDefinition's `kind` and
    `metadata`, not the schema that makes up nearly all of its lines. Only keys written as strings are found (not
    a sequence key a YMap holds as its text); merge keys are resolved and a repeated key's last value wins, as in a
    YMap."""

    __slots__ = ("_loader", "_nodes", "_text", "_values", "span")

    def __init__(self, loader: _Loader, node: yaml.MappingNode, text: str) -> None:
        loader.flatten_mapping(node)
        self._loader, self._text = loader, text
        self._nodes = {key.value: value for key, value in node.value
                       if key.__class__ is yaml.ScalarNode and key.tag in (_STR_TAG, _FLAG_TAG)}
        self._values: dict[str, Any] = {}
        self.span = _span(loader, node)

    def get(self, key: str, default: Any = None) -> Any:
        """The value under `key` (a YMap, YSeq or scalar, as `load_yaml_documents` builds it), or `default`.
        Raises YamlError when the value cannot be built (a merge key that is not a mapping, `!!int abc`)."""
        if key in self._values:
            return self._values[key]
        node = self._nodes.get(key)
        if node is None:
            return default
        try:
            with _as_yaml_error(self._text, node):
                value = self._values[key] = _construct(self._loader, node)
        except YamlError:
            # PyYAML leaves the nodes of a failed build marked as being built: a later read of this value, or of a
            # valid value anchored inside it (one not too deep on its own), would be "unconstructable recursive".
            self._loader.recursive_objects.clear()
            raise
        return value

    def __contains__(self, key: object) -> bool:
        return key in self._nodes


def load_yaml_lazily(text: str) -> list[Any]:
    """`load_yaml_documents`, except that a document whose root is a mapping comes as a `YamlDocument`, whose values
    are built when read. The whole stream is parsed here (a syntax error raises YamlError, as there); an error in
    building a value is raised by the `get` that reads it, and one in a value never read is never seen."""
    loader = _loader_class(text)(text)
    documents: list[Any] = []
    with _as_yaml_error(text):
        while loader.check_node():
            node = loader.get_node()
            if isinstance(node, yaml.MappingNode) and node.tag == "tag:yaml.org,2002:map":
                documents.append(YamlDocument(loader, node, text))
            else:
                with _as_yaml_error(text, node):  # its bad value is in it, not in a value never read
                    value = loader.construct_document(node)
                if value is not None:
                    documents.append(value)
    return documents


# Standard tags whose values PyYAML converts with Python's int(), float() or a table look-up.
_CONVERTED = {"tag:yaml.org,2002:int": "an integer", "tag:yaml.org,2002:float": "a number",
              "tag:yaml.org,2002:bool": "a boolean (true or false)"}


# Standard collection tags and the node each needs (PyYAML's constructors fail with AttributeError or TypeError on
# the other kinds).
_COLLECTIONS = {"tag:yaml.org,2002:seq": (yaml.SequenceNode, "a sequence"),
                "tag:yaml.org,2002:map": (yaml.MappingNode, "a mapping")}
_INT_TEXT = re.compile(r"[-+]?[0-9][0-9_]*")  # a decimal integer as written: int() refuses it only for its length


def _mistyped_scalar(text: str) -> YamlError:
    """The error for the first value whose standard tag it does not fit (see `load_yaml_documents`)."""
    loader = _Loader(text)
    try:
        while loader.check_node():  # document by document: one after the bad scalar may not even parse
            found = _first_mistyped(loader, loader.get_node())
            if found is not None:
                return _mistyped_error(found)
    except yaml.YAMLError:
        pass
    finally:
        loader.dispose()
    return _mistyped_error(None)


def _mistyped_error(found: tuple[yaml.Node, str] | None) -> YamlError:
    """The error for a node `_first_mistyped` found, or for none found."""
    if found is None:
        return YamlError("invalid YAML: a value does not fit its tag", None)
    node, what = found
    line = node.start_mark.line + 1
    kind = node.tag.rsplit(":", 1)[-1]
    # The value itself is not quoted: a message is not redacted, and the value may be a secret.
    if what == "an integer" and _INT_TEXT.fullmatch(node.value):
        digits = sys.get_int_max_str_digits()
        return YamlError(f"invalid YAML: an integer of more than {digits} digits (line {line})", line)
    return YamlError(f"invalid YAML: a value tagged !!{kind} is not {what} (line {line})", line)


def _first_mistyped(loader: _Loader, root: yaml.Node) -> tuple[yaml.Node, str] | None:
    """The first node (in document order) its standard tag does not fit, with what the tag needs."""
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue  # an alias: the anchored node again
        seen.add(id(node))
        collection = _COLLECTIONS.get(node.tag)
        if collection is not None and not isinstance(node, collection[0]):
            return node, collection[1]
        if isinstance(node, yaml.ScalarNode):
            if node.tag in _CONVERTED:
                try:
                    loader.construct_object(node, deep=True)
                # ConstructorError: a base-60 `!!int` (`_construct_int`), which a bad value built before it hides
                except (ValueError, KeyError, TypeError, IndexError, yaml.constructor.ConstructorError):
                    return node, _CONVERTED[node.tag]
        elif isinstance(node, yaml.MappingNode):
            stack.extend(part for pair in reversed(node.value) for part in reversed(pair))
        else:
            stack.extend(reversed(node.value))
    return None


def load_yaml(text: str) -> Any:
    """The first document of a YAML stream (None when empty). See `load_yaml_documents`."""
    docs = load_yaml_documents(text)
    return docs[0] if docs else None


class Yaml11Flag(str):
    """A plain `yes`, `no`, `on` or `off` (in any of YAML's three casings), or `y`, `Y`, `n`, `N`: a string, as
    YAML 1.2 reads it (GitHub Actions, Compose, Taskfile), that remembers it was written plain, which YAML 1.1
    readers take as a boolean (`yaml11_bool`, `go_yaml_v2_bool`). A quoted `"yes"` is a plain `str`: a string to
    every reader."""

    __slots__ = ()


_YAML11 = {word: True for word in ("yes", "Yes", "YES", "on", "On", "ON")} | {
    word: False for word in ("no", "No", "NO", "off", "Off", "OFF")}
# go-yaml v2's resolve table adds y/Y and n/N (go-yaml/yaml v2 resolve.go resolveMapList; sigs.k8s.io/yaml, which
# kubectl and the API machinery convert YAML to JSON with, uses go.yaml.in/yaml/v2: kubernetes-sigs/yaml yaml.go).
_GO_YAML_V2 = _YAML11 | {"y": True, "Y": True, "n": False, "N": False}


def yaml11_bool(value: Any) -> bool | None:
    """A flag of a file a YAML 1.1 tool reads with PyYAML's, SnakeYAML's or Psych's booleans (GitLab, Bitbucket,
    CircleCI, pre-commit): a boolean, or a plain yes/no/on/off (`Yaml11Flag`) as those tools read it; None for
    anything else, a quoted "yes" and a plain y/n included."""
    if value is True or value is False:
        return bool(value)
    if isinstance(value, Yaml11Flag):
        return _YAML11.get(str(value))
    return None


def go_yaml_v2_bool(value: Any) -> bool | None:
    """A flag of a manifest kubectl reads (go-yaml v2 through sigs.k8s.io/yaml): `yaml11_bool`, and a plain y/Y
    (true) or n/N (false) too."""
    if value is True or value is False:
        return bool(value)
    if isinstance(value, Yaml11Flag):
        return _GO_YAML_V2.get(str(value))
    return None


# The words go-yaml v3 and v4 accept for a Go `bool` field besides true/false, quoted or plain, "for compatibility with
# the 1.1 spec" (go-yaml/yaml decode.go `scalar`, case reflect.Bool; go.yaml.in/yaml/v4 `constructStr`, case
# reflect.Bool): exactly these casings.
_GO_YAML_WORDS = {word: True for word in ("y", "Y", "yes", "Yes", "YES", "on", "On", "ON")} | {
    word: False for word in ("n", "N", "no", "No", "NO", "off", "Off", "OFF")}


def go_yaml_bool(value: Any) -> bool | None:
    """A flag a Go tool decodes with go-yaml v3/v4 into a typed `bool` field (Task's `internal`, `flatten`): a
    YAML 1.2 boolean, or a string among y/yes/on and n/no/off in go-yaml's casings (`_GO_YAML_WORDS`), quoted or not;
    None for anything else (a quoted "true" is a decoding error there)."""
    if value is True or value is False:
        return bool(value)
    if isinstance(value, str):
        return _GO_YAML_WORDS.get(str(value))
    return None


_WORDS = {"true": True, "y": True, "yes": True, "on": True, "false": False, "n": False, "no": False, "off": False}


def word_bool(value: Any) -> bool | None:
    """A flag a tool reads from its text in any casing, quoted or not: true/y/yes/on or false/n/no/off (Compose's
    `toBoolean` on the fields compose-go casts, compose-spec/compose-go loader/interpolate.go; Azure Pipelines'
    boolean, learn.microsoft.com/azure/devops/pipelines/yaml-schema/boolean); None for anything else."""
    if value is True or value is False:
        return bool(value)
    if isinstance(value, str):
        return _WORDS.get(str(value).lower())
    return None


def scalar_text(value: Any) -> str | None:
    """A scalar as text (numbers and booleans too); None for collections and null."""
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Tagged):
        return str(value)
    return str(value)


def as_list(value: Any) -> list[Any]:
    """A value that may be written as one item or a list, as a list (None gives [])."""
    if value is None:
        return []
    if isinstance(value, list):
        return list(value)
    return [value]


def string_list(value: Any) -> list[str]:
    """`as_list` keeping only scalars, as text."""
    return [s for s in (scalar_text(v) for v in as_list(value)) if s is not None]
