"""Secret redaction for any repository text that leaves `repo.Workspace`.

Detection is Yelp's detect-secrets: its plugins (AWS, GitHub, GitLab, Slack, Stripe, private keys, JWTs,
keyword assignments, base64/hex high-entropy strings, ...) and its heuristic false-positive filters. Around it:

* the shapes it misses (`redaction_rules`): newer token formats, credentials on command lines (`curl -u`,
  `mysql -p`, `sshpass`, `docker login -p`, ...), Authorization headers, assignments named for a secret in shell,
  Makefile, YAML, JSON, TOML, Dockerfile and XML (short values too), URLs with a password, `.netrc`, `.pgpass`;
* the look-alikes it reports (`redaction_rules.is_reference`): calls and references such as `os.getenv('API_KEY')`,
  `process.env.NPM_TOKEN`, `${{ secrets.X }}`, placeholders, paths and integrity hashes are evidence, kept;
* a match is widened to the whole token it sits in (some plugins report only a prefix, e.g. `ghp`);
* a PEM private key block is redacted from its BEGIN line to its END line, and a YAML block scalar under a key
  named for a secret (`password: |`) from its first line to its last;
* unquoted assignment values (`KEY=value` in `.env` files and shell) are measured with the same entropy
  plugins and limits that detect-secrets applies to quoted strings.

How well: tests/security/redaction_corpus.yaml holds secret shapes and look-alikes; the README's Safety section
quotes the recall and precision measured on it, and tests/security/test_redaction_corpus.py fails if they drop.

Verification (network calls) is never run: we call the plugins' string analysers, not their verifiers.
"""

from __future__ import annotations

import re
import sys
import threading
import types
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from .redaction_rules import BLOCK_SCALAR_KEY, is_reference, line_secrets, named_as_reference, secret_name
from .regex_needs import Need, merged, needs

MARK = "[REDACTED:{}]"

# Whether a line can hold anything a plugin would report. Every detect-secrets pattern plugin matches a token of
# 16 or more characters without a slash (AWS, GitHub, Slack, JWT segments, ...) or needs an assignment, a quote,
# or `user:pass@host` (keywords, quoted high-entropy strings, basic auth); private keys are handled as blocks.
_CANDIDATE = re.compile(r"[A-Za-z0-9+_\-]{16,}|['\"=:@<]|pass|pwd|login|\bENV\s|\s-u\s", re.I)
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9+/_\-]")
_ASSIGNMENT = re.compile(
    r"""(?:^|[\s;&|(])(?:export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*)\s*[=:]\s*(?P<q>["']?)(?P<value>[^\s"'`;|&]{8,})(?P=q)"""
)
_REFERENCE_KEY_WORDS = re.compile(r"(sha|commit|rev|ref|digest|checksum|hash|version|url|path|dir|file)", re.I)
_PEM_BEGIN = re.compile(r"-----BEGIN[ A-Z0-9]*PRIVATE KEY( BLOCK)?-----")
_PEM_END = re.compile(r"-----END[ A-Z0-9]*PRIVATE KEY( BLOCK)?-----")
_PLACEHOLDER = re.compile(r"^(\$\{?\{?|<|\{\{|%\()|(example|changeme|placeholder|xxxx|your[_-])", re.I)

_SKIPPED_PLUGINS = {"Public IP (ipv4)"}  # addresses are evidence (ssh targets), not secrets
_BASE64_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-")
_HEX_CHARS = set("0123456789abcdefABCDEF")


class _OfflineRequests(types.ModuleType):
    """Stands in for `requests` while detect-secrets' plugins load: they import it at module level only for
    `verify()` (asking the vendor whether a secret is live), which redaction never calls. Loading the real one would
    pull in urllib3, ssl and http.client (about 0.15 s) for nothing, and a redactor has no business with a network."""

    def __getattr__(self, name: str) -> Any:  # `requests.Response` in an annotation, evaluated at import
        if name.startswith("__"):
            raise AttributeError(name)
        return _OfflineRequests(f"{self.__name__}.{name}")

    def __call__(self, *args: object, **kwargs: object) -> Any:  # `requests.get(...)`, if verify() ever ran
        raise RuntimeError("orchestrator-kit's redaction never verifies secrets over the network")


@contextmanager
def _no_network_library() -> Iterator[None]:
    """Import detect-secrets with `requests` replaced by `_OfflineRequests`, unless the real one is already loaded
    (then the plugins simply share it). The stand-in is removed afterwards, so a later `import requests` anywhere
    gets the real library; only the plugin modules keep the stand-in, in the `verify()` code nobody calls."""
    if "requests" in sys.modules:
        yield
        return
    sys.modules["requests"] = _OfflineRequests("requests")
    try:
        yield
    finally:
        if isinstance(sys.modules.get("requests"), _OfflineRequests):
            del sys.modules["requests"]


class _Plugins:
    """detect-secrets plugin instances, built once (the import costs about 0.2 s, so it is lazy)."""

    def __init__(self) -> None:
        with _no_network_library():
            from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
            from detect_secrets.filters import heuristic
            from detect_secrets.plugins.high_entropy_strings import (
                Base64HighEntropyString,
                HexHighEntropyString,
            )

            mapping = get_mapping_from_secret_type_to_class()

        self.base64 = Base64HighEntropyString()
        self.hex = HexHighEntropyString()
        self.pattern_plugins: list[tuple[str, Any]] = []
        for secret_type, plugin_class in mapping.items():
            if secret_type in _SKIPPED_PLUGINS or plugin_class in (Base64HighEntropyString, HexHighEntropyString):
                continue
            self.pattern_plugins.append((secret_type, plugin_class()))
        self.heuristic = heuristic
        self.keyword_screen = _keyword_screen()
        self.needs = _plugin_needs(self.pattern_plugins)


# The keyword plugin (detect-secrets' KeywordDetector) tries up to ten long patterns on a line, each built around
# its keywords: about half of the time a cold scan spends redacting (hashicorp/terraform: 23 of 53 ms, for 513
# lines of which 9 hold a keyword). A line without one of the keywords cannot match any of them: a screen (a
# necessary condition only: a line that passes goes to the plugin as before, so what is found is the same).


def _plugin_needs(plugins: list[tuple[str, Any]]) -> dict[int, tuple[Need, ...]]:
    """By plugin id, what the patterns of a plugin need (`regex_needs`), for the plugins that find nothing but the
    matches of their `denylist` patterns (detect-secrets' own `RegexBasedDetector.analyze_string`) and whose every
    pattern needs something: such a plugin finds nothing in a line that holds none of it."""
    from detect_secrets.plugins.base import RegexBasedDetector

    found: dict[int, tuple[Need, ...]] = {}
    for _, plugin in plugins:
        patterns = getattr(plugin, "denylist", None)
        if type(plugin).analyze_string is not RegexBasedDetector.analyze_string or not patterns:
            continue
        own = [needs(pattern) for pattern in patterns]
        if all(need is not None for need in own):
            found[id(plugin)] = merged([need for need in own if need is not None])
    return found


def _keyword_screen() -> Callable[[str], bool] | None:
    """The keyword plugin's screen: whether a line holds one of its keywords (`api_?key`, `password`, `secret`, ...),
    case-insensitively. Each of its patterns (for every file type) holds the keyword group, not optional; when one
    does not (another version of detect-secrets), None: no screen.

    An ASCII line is lower-cased and searched for each spelling of each keyword (`api_key`, `apikey`, ...): on ASCII
    text a case-insensitive match is a match in the lower-cased text (the case-insensitive matches of an ASCII
    letter outside ASCII, such as the Kelvin sign for `k`, are not in such a line). Other lines: the regex."""
    from detect_secrets.plugins import keyword

    group = getattr(keyword, "DENYLIST_REGEX", None)
    words = getattr(keyword, "DENYLIST", None)
    tables = [getattr(keyword, "QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP", None),
              *getattr(keyword, "REGEX_BY_FILETYPE", {}).values()]
    if not isinstance(group, str) or not words or any(not isinstance(table, dict) for table in tables):
        return None
    if not all(group in p.pattern and _top_level(p.pattern, group) for table in tables for p in table):
        return None
    regex = re.compile("|".join(words), re.IGNORECASE)
    spellings: list[str] = []
    for word in words:  # each `a_?b` is `a_b` or `ab`; a keyword of another form leaves the regex alone
        parts = word.split("_?")
        if not all(part.isascii() and part.isalpha() and part.islower() for part in parts) or len(parts) > 2:
            if not word.isascii():
                continue  # non-ASCII (contraseña): cannot match an ASCII line
            return regex.search  # type: ignore[return-value]
        spellings.extend(["_".join(parts), "".join(parts)] if len(parts) == 2 else parts)
    literal = tuple(dict.fromkeys(spellings))

    def holds_keyword(line: str) -> bool:
        if line.isascii():
            lower = line.lower()
            return any(spelling in lower for spelling in literal)
        return regex.search(line) is not None

    return holds_keyword


def _top_level(pattern: str, group: str) -> bool:
    """Whether every match of `pattern` holds a match of `group`: `group` appears outside any other group (and any
    character class), is not made optional by a quantifier after it, and `pattern` has no alternation of its own."""
    at = pattern.index(group)
    outside = False
    depth = 0
    index = 0
    while index < len(pattern):
        if index == at:
            outside = depth == 0
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if char == "[":  # a class: skip to its end (a `]` right after `[` or `[^` is one of its characters)
            index += 1
            index += pattern.startswith("^", index)
            index += pattern.startswith("]", index)
            while index < len(pattern) and pattern[index] != "]":
                index += 2 if pattern[index] == "\\" else 1
            index += 1
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return False
        index += 1
    return outside and pattern[at + len(group) : at + len(group) + 1] not in ("?", "*", "{")


_plugins: _Plugins | None = None
_plugins_lock = threading.Lock()


def _get_plugins() -> _Plugins:
    global _plugins
    if _plugins is None:
        with _plugins_lock:
            if _plugins is None:
                _plugins = _Plugins()
    return _plugins


def _widen(line: str, start: int, end: int) -> tuple[int, int]:
    """Grow [start, end) to the whole token so that a prefix match still hides the full secret."""
    while start > 0 and _TOKEN_CHARS.match(line[start - 1]):
        start -= 1
    while end < len(line) and _TOKEN_CHARS.match(line[end]):
        end += 1
    while end < len(line) and line[end] == "=":  # base64 padding, never a key=value separator on this side
        end += 1
    return start, end


def _is_false_positive(plugins: _Plugins, secret: str, line: str) -> bool:
    h = plugins.heuristic
    return bool(
        h.is_sequential_string(secret)
        or h.is_potential_uuid(secret)
        or h.is_templated_secret(secret)
        or h.is_prefixed_with_dollar_sign(secret)
        or h.is_not_alphanumeric_string(secret)
        or h.is_likely_id_string(secret, line)
        or _PLACEHOLDER.search(secret)
    )


def _entropy_secret(plugins: _Plugins, value: str) -> str | None:
    """The detect-secrets entropy type of `value` if it passes that plugin's limit, else None."""
    chars = set(value)
    if chars <= _HEX_CHARS and plugins.hex.calculate_shannon_entropy(value) > plugins.hex.entropy_limit:
        return "Hex High Entropy String"
    if chars <= _BASE64_CHARS and plugins.base64.calculate_shannon_entropy(value) > plugins.base64.entropy_limit:
        return "Base64 High Entropy String"
    return None


def _find_in_line(line: str, filename: str) -> list[tuple[int, int, str]]:
    """Spans (start, end, secret type) of secrets in one line."""
    plugins = _get_plugins()
    spans: list[tuple[int, int, str]] = []

    def add(value: str, secret_type: str) -> None:
        if not value:
            return
        start = line.find(value)
        while start != -1:
            spans.append((*_widen(line, start, start + len(value)), secret_type))
            start = line.find(value, start + len(value))

    lowered = line.lower() if line.isascii() else None
    for secret_type, plugin in plugins.pattern_plugins:
        plugin_needs = plugins.needs.get(id(plugin))
        if plugin_needs is not None:
            for need in plugin_needs:
                if need.met(line, lowered):
                    break
            else:
                continue  # none of its patterns can match this line
        if secret_type == "Secret Keyword":
            if plugins.keyword_screen is not None and not plugins.keyword_screen(line):
                continue
            found: Iterable[Any] = plugin.analyze_line(filename=filename, line=line, line_number=0)
            for secret in found:
                value = secret.secret_value or ""
                at = line.find(value)
                if len(value) >= 3 and not _is_false_positive(plugins, value, line) and not (
                    at >= 0 and (is_reference(value, line, at, at + len(value)) or named_as_reference(line, at))
                ):
                    add(value, secret_type)
            continue
        for value in plugin.analyze_string(line):
            if isinstance(value, tuple):  # some plugins' regexes have several groups
                value = max(value, key=len)
            if secret_type == "Private Key":
                continue  # handled as a block by redact_text
            add(value, secret_type)

    for entropy_plugin in (plugins.base64, plugins.hex):
        for value in entropy_plugin.analyze_string(line):
            key, sep, rest = value.partition("=")
            if sep and rest.rstrip("=") and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
                value = rest  # a quoted "NAME=value": the value is the secret, the name is evidence
            at = line.find(value)
            if entropy_plugin.calculate_shannon_entropy(value) > entropy_plugin.entropy_limit and not (
                _is_false_positive(plugins, value, line) or (at >= 0 and is_reference(value, line, at, at + len(value)))
            ):
                add(value, entropy_plugin.secret_type)

    for match in _ASSIGNMENT.finditer(line):
        key, value = match.group("key"), match.group("value")
        if _PLACEHOLDER.search(value) or is_reference(value, line, match.start("value"), match.end("value")):
            continue
        secret_type = _entropy_secret(plugins, value)
        if secret_type and _REFERENCE_KEY_WORDS.search(key) and not secret_name(key):
            secret_type = None  # a commit sha or digest in a variable named for it is a reference
        if secret_type:
            spans.append((match.start("value"), match.end("value"), secret_type))
    for start, end, secret_type in line_secrets(line, filename):  # shapes detect-secrets misses: not widened
        spans.append((start, end, secret_type))
    return spans


@lru_cache(maxsize=65536)
def redact_line(line: str, filename: str = "") -> str:
    """`line` with every detected secret replaced by `[REDACTED:<type>]`. Cached: lines repeat a lot."""
    if not _CANDIDATE.search(line):
        return line
    spans = sorted(_find_in_line(line, filename))
    if not spans:
        return line
    out: list[str] = []
    cursor = 0
    for start, end, secret_type in spans:
        if end <= cursor:
            continue
        start = max(start, cursor)
        out.append(line[cursor:start])
        out.append(MARK.format(secret_type))
        cursor = end
    out.append(line[cursor:])
    return "".join(out)


def redact_text(text: str, filename: str = "") -> str:
    """Redact a multi-line text: each line as `redact_line`, and whole PEM private key blocks."""
    if not text:
        return text
    lines = text.split("\n")
    out: list[str] = []
    in_key = False
    block_indent: int | None = None  # inside a YAML block scalar under a key named for a secret
    for line in lines:
        if block_indent is not None:
            if not line.strip() or len(line) - len(line.lstrip()) > block_indent:
                out.append(line[: len(line) - len(line.lstrip())] + MARK.format("Secret Keyword") if line.strip()
                           else line)
                continue
            block_indent = None
        scalar = BLOCK_SCALAR_KEY.match(line)
        if scalar and secret_name(scalar.group("key")):
            block_indent = len(scalar.group("indent"))
            out.append(line)
            continue
        if in_key:
            if _PEM_END.search(line):
                in_key = False
                out.append(line[line.index("-----END") :])
            else:
                out.append(MARK.format("Private Key"))
            continue
        begin = _PEM_BEGIN.search(line)
        if begin:
            end = _PEM_END.search(line, begin.end())
            if end:  # a one-line key, as in an escaped JSON string
                out.append(line[: begin.end()] + MARK.format("Private Key") + line[end.start() :])
            else:
                in_key = True
                out.append(line[: begin.end()])
            continue
        out.append(redact_line(line, filename))
    return "\n".join(out)
