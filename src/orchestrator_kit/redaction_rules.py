"""Secret shapes detect-secrets does not report, and the look-alikes it reports wrongly (used by `redaction`).

Each rule is a regular expression whose group `v` is the secret value; `line_secrets` returns their spans. The
shapes, each from a leak found in a real repository or in the hostile-repository battery:

* token formats: GitHub fine-grained (`github_pat_`) and other `gh?_` tokens, GitLab `glpat-`, Vault `hvs.`/`hvb.`,
  PyPI `pypi-`, npm `npm_`, Google `AIza`, Stripe restricted `rk_live_`, the last part of a Slack webhook URL;
* credentials on a command line: `curl -u/--user user:pass`, `mysql -pX`, `sshpass -p X`, `docker login -p X`,
  `htpasswd -b file user pass`, openssl `pass:X`, and long options named for a secret (`--password X`,
  `--token=X`, `--api-key X`; not `--password-stdin`);
* HTTP headers: `Authorization: Bearer|Basic|Token X` (also in git's `http.extraheader`) and any header named for a
  secret (`X-API-Key: X`);
* assignments whose name is a secret word (password, token, secret, api key, auth, credential, ...): shell and
  `.env` (`NAME=value`, also inside Markdown backticks), Makefile (`:=`, `::=`, `?=`, `+=`), YAML/JSON/TOML keys
  (quoted or not), Dockerfile `ENV NAME value`, XML `<password>value</password>`; short values count
  (`DEPLOY_TOKEN=t0k3n9`);
* URLs with a password (`scheme://user:pass@host`, `redis://:pass@host`);
* `.netrc` (`password X`, on the `machine` line or its own) and `.pgpass` (`host:port:db:user:password`).

A value is a look-alike, never redacted by these rules nor kept redacted from detect-secrets' keyword plugin, when it
is a reference or code rather than a literal (`is_reference`): an expansion (`$X`, `${X}`, `{{ x }}`, `%(x)s`,
`<your-token>`), a call or index (`os.getenv('API_KEY')`, `ENV.fetch(...)`), a dotted name (`process.env.NPM_TOKEN`,
`var.db_password`), a path, a placeholder word (`changeme`, `example`, `xxxx`), a boolean or number; or the value of
a name that says it is not the secret itself (`secretName: prod-db-credentials`, `api_key_header: X-API-Key`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .regex_needs import Need, needs

SECRET_WORDS = (
    r"(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|private[_-]?key|access[_-]?key|"  # noqa: S105
    r"signing[_-]?key|secret[_-]?key|auth|credentials?|client[_-]?secret|_key\b)"
)
_SECRET_NAME = re.compile(SECRET_WORDS, re.I)
# Words of a name (split at `_`, `-`, `.` and camelCase) that say it holds where a secret is, or a fact about it,
# not the secret itself: PASSWORD_FILE, token_url, secretName, api_key_header, password_min_length.
_NOT_SECRET_WORDS = frozenset({
    "file", "path", "dir", "url", "uri", "endpoint", "name", "header", "length", "len", "ttl", "seconds", "timeout",
    "expiry", "expires", "expiration", "min", "max", "policy", "algorithm", "alg", "type", "id", "sha", "commit",
    "digest", "checksum", "hash", "integrity", "version", "ref", "enabled", "required", "mode", "format", "prefix",
    "provider", "method", "scope", "count", "size", "arn", "location", "pattern", "regex", "used", "reset",
})
_NAME_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_PLACEHOLDER = re.compile(
    r"^(?:changeme|change[_-]?me|example|placeholder|redacted|secret|password|token|none|null|nil|true|false|yes|no|"
    r"on|off|todo|tbd|dummy|test|bearer|basic|xxx+|\*+|\.\.\.|…)$|^(?:your|my)[_-]|^x{4,}$|example", re.I
)
# A value: double-quoted, single-quoted (any character but the quote) or bare (up to a space, quote, shell operator or
# the end of a flow mapping). `value_span` picks the group that matched.
_VALUE = r"""(?:"(?P<dq>[^"\n]+)"|'(?P<sq>[^'\n]+)'|(?P<v>[^\s"'`;|&<>,}\]]+))"""

_TOKEN_FORMATS = re.compile(
    r"(?P<v>github_pat_[A-Za-z0-9_]{22,}|gh[opsur]_[A-Za-z0-9]{30,}|glpat-[A-Za-z0-9_\-]{20,}|hv[sb]\.[A-Za-z0-9_\-]{20,}"
    r"|pypi-[A-Za-z0-9_\-]{20,}|npm_[A-Za-z0-9]{30,}|AIza[0-9A-Za-z_\-]{30,}|[rs]k_live_[A-Za-z0-9]{16,})"
    r"|hooks\.slack\.com/services/[A-Za-z0-9]+/[A-Za-z0-9]+/(?P<w>[A-Za-z0-9]{8,})"
)
_RULES: list[re.Pattern[str]] = [
    # curl -u user:pass, curl --user user:pass (not $USER:$PASS)
    re.compile(r"""(?:^|\s)(?:-u|--user)(?:\s+|=)?["']?[^\s:"'$]+:(?P<v>[^\s"'@]+)"""),
    # mysql -pSECRET (attached; a lone -p prompts)
    re.compile(r"""\b(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump)\b[^\n|;&]*?\s-p(?=\S)""" + _VALUE),
    # sshpass -p SECRET / -pSECRET
    re.compile(r"""\bsshpass\s+(?:-[a-oq-z]\w*\s+)*-p\s*""" + _VALUE),
    # docker login -p SECRET
    re.compile(r"""\b(?:docker|podman|buildah|skopeo|oras|crane|helm\s+registry|az)\s+(?:auth\s+)?login\b[^\n|;&]*?"""
               r"""\s-p\s+""" + _VALUE),
    # ldapsearch/ldapmodify/... -w SECRET (the bind password)
    re.compile(r"""\bldap\w+\b[^\n|;&]*?\s-w\s+""" + _VALUE),
    # htpasswd -b [-c] file user password
    re.compile(r"""\bhtpasswd\s+(?:-\w+\s+)*?-\w*b\w*\s+(?:-\w+\s+)*\S+\s+\S+\s+""" + _VALUE),
    # openssl -passin/-passout/-pass pass:SECRET
    re.compile(r"""\bpass:""" + _VALUE),
    # --password X, --password=X, --token X, --api-key X, --client-secret X (not --password-stdin, --password-file)
    re.compile(r"""(?:^|\s)--(?:[\w-]*-)?(?:password|passwd|pass|token|secret|api-?key|auth-token|access-key)"""
               r"""(?:\s+|=)""" + _VALUE, re.I),
    # Authorization: Bearer X / Basic X / Token X (headers, git http.extraheader)
    re.compile(r"""\bauthorization\s*[:=]\s*(?:bearer|basic|token|digest)\s+(?P<v>[^\s"'`;]+)""", re.I),
    # Any header named for a secret: X-API-Key: X, PRIVATE-TOKEN: X
    re.compile(r"""(?:-H|--header)\s+["']?(?!authorization)[\w-]*(?:key|token|secret|auth)[\w-]*\s*:\s*""" + _VALUE,
               re.I),
    # URL with a password: scheme://user:pass@host, scheme://:pass@host
    re.compile(r"""\b[a-z][a-z0-9+.\-]*://[^\s/:@"'`]*:(?P<v>[^\s/@"'`]+)@""", re.I),
    # XML element named for a secret
    re.compile(r"""<(?P<tag>[\w.-]*(?:password|passwd|secret|token|apikey|api-key)[\w.-]*)>(?P<v>[^<\s]+)</(?P=tag)>""",
               re.I),
]
# NAME=value, NAME := value, "name": "value", name: value, ENV NAME value, export NAME=value
_ASSIGNMENT = re.compile(
    r"""(?:^|[\s;&|(`{,\["'=])(?:export\s+|ENV\s+|ARG\s+)?(?P<k>["']?)(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*)(?P=k)"""
    r"""\s*(?:::=|:=|\?=|\+=|=|:)[ \t]*""" + _VALUE
)
_DOCKER_ENV_SPACE = re.compile(r"""^\s*ENV\s+(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s+""" + _VALUE)
_NETRC_PASSWORD = re.compile(r"""(?:^|\s)password\s+""" + _VALUE)
_NETRC_LINE = re.compile(r"""\bmachine\s+\S+\s+login\s+\S+\s+password\s+""" + _VALUE)
_PGPASS_LINE = re.compile(r"""^[^:\s#]+:[^:\s]+:[^:\s]+:[^:\s]+:(?P<v>\S+)$""")
_GROUPS = ("dq", "sq", "v", "w")
_DOTTED = re.compile(r"^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$")
_HASH_PREFIX = re.compile(r"(?:sha(?:1|224|256|384|512)[-:]|h1:|md5[-:])$", re.I)


def secret_name(key: str) -> bool:
    """Whether an assignment's name says its value is a secret (and not a file, URL, length, ... of one)."""
    return bool(_SECRET_NAME.search(key)) and not names_a_reference(key)


def names_a_reference(key: str) -> bool:
    """Whether one word of the name says it is not the secret itself (see _NOT_SECRET_WORDS)."""
    return any(word.lower() in _NOT_SECRET_WORDS for word in _NAME_WORDS.findall(key))


_KEY_BEFORE = re.compile(r"""(?P<key>[A-Za-z_][\w.\-]*)["']?\s*(?::=|\?=|\+=|[:=])\s*["']?$""")


def named_as_reference(line: str, start: int) -> bool:
    """Whether the name assigned the value at `start` says it is not the secret itself (`secretName:`,
    `api_key_header:`, `PASSWORD_FILE=`)."""
    match = _KEY_BEFORE.search(line, 0, start)
    return bool(match and names_a_reference(match.group("key")))


def is_reference(value: str, line: str, start: int, end: int) -> bool:
    """Whether `value` (at line[start:end]) is code or a reference rather than a literal secret (module docstring)."""
    bare = value.strip("\"'")
    if not bare or bare[0] in "$%<{~/(!" or bare.startswith(("./", "../", "@")):
        return True
    if "${" in bare or "{{" in bare or "$(" in bare or bare.startswith("%(") or bare.endswith(("(", "[")):
        return True
    after = line[end : end + 1]
    if after in ("(", "["):  # os.getenv('X'), ENV.fetch(...), data.x["password"]
        return True
    if _DOTTED.match(bare) and not any(c.isdigit() for c in bare.split(".")[-1][:1]):
        return True  # process.env.NPM_TOKEN, var.db_password
    if _PLACEHOLDER.search(bare) or bare.isdigit():
        return True
    if re.match(r"(?:sha(?:1|224|256|384|512)-|h1:)", bare, re.I):
        return True
    return bool(_HASH_PREFIX.search(line[max(0, start - 8) : start]))  # sha512-..., h1:... (integrity hashes)


def value_span(match: re.Match[str]) -> tuple[int, int, str]:
    """(start, end, text) of the value group that matched (`dq`, `sq`, `v` or `w`)."""
    groups = match.groupdict()
    name = next(g for g in _GROUPS if groups.get(g))
    return match.start(name), match.end(name), groups[name]


# What each pattern above needs (`regex_needs`): a line holding none of it cannot match, and is not searched.
_NEEDS: dict[re.Pattern[str], Need | None] = {
    pattern: needs(pattern)
    for pattern in (_TOKEN_FORMATS, *_RULES, _ASSIGNMENT, _DOCKER_ENV_SPACE, _NETRC_PASSWORD, _NETRC_LINE)
}


def line_secrets(line: str, filename: str) -> Iterator[tuple[int, int, str]]:
    """Spans (start, end, kind) of the secrets the rules above find in one line."""
    lowered = line.lower() if line.isascii() else None
    may = {pattern for pattern, need in _NEEDS.items() if need is None or need.met(line, lowered)}
    if _TOKEN_FORMATS in may:
        for match in _TOKEN_FORMATS.finditer(line):
            start, end, _value = value_span(match)
            yield start, end, "Token"
    base = filename.rsplit("/", 1)[-1].lower()
    netrc = _NETRC_PASSWORD if "netrc" in base else _NETRC_LINE
    found: list[tuple[re.Match[str], str, bool]] = [(m, "Credential", False) for r in _RULES if r in may
                                                    for m in r.finditer(line)]
    found += [(m, "Secret Keyword", True) for p in (_ASSIGNMENT, _DOCKER_ENV_SPACE) if p in may
              for m in p.finditer(line)]
    if netrc in may:
        found += [(m, "Credential", False) for m in netrc.finditer(line)]
    for match, kind, named in found:
        if named and not secret_name(match.group("key")):
            continue
        start, end, value = value_span(match)
        if not is_reference(value, line, start, end):
            yield start, end, kind
    if "pgpass" in base:
        pgpass = _PGPASS_LINE.match(line.strip())
        if pgpass:
            offset = len(line) - len(line.lstrip())
            yield offset + pgpass.start("v"), offset + pgpass.end("v"), "Credential"


# A YAML key named for a secret whose value is a block scalar (`password: |`): the lines below are the secret.
BLOCK_SCALAR_KEY = re.compile(
    r"""^(?P<indent>\s*)(?:-\s+)?(?P<k>["']?)(?P<key>[\w.\-]+)(?P=k)\s*:\s*[|>][-+0-9]*\s*(?:#.*)?$"""
)
