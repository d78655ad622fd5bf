"""One person, one author: author identities that are clearly the same person are merged.

Git has already applied the repository's `.mailmap` (the log prints `%aN`/`%aE`, git's own mailmap support: the
file is read as data, nothing runs). The history pass then keys an author by e-mail (case-insensitive), so one
person who committed from two addresses without a `.mailmap` entry (helm/helm: "Matt Farina" under two) would count
twice, in the author total, the bus factor, fragmentation and the authors per week. Two identities are merged when

* their names are the same once normalised: Unicode compatibility form, accents dropped, case folded, every run of
  characters that are not letters or digits turned into one space (`Matt  Farina`, `matt farina` and `Mätt-Farina`
  are one name). Only names that say who someone is count: two words or more, or one word of at least
  MIN_HANDLE_LENGTH characters (a long handle such as `strangelookingnerd`); placeholders such as `root`,
  `unknown` or `Your Name` never merge anyone;
* or both e-mails are GitHub noreply addresses of the same login (`12345+octocat@users.noreply.github.com` and
  `octocat@users.noreply.github.com`).

One address can carry several names (terraform: 114 commits of "Radek Simko" and 5 of "Sarah French" under one
noreply address). The history pass keeps one name per address for its sums, and counts the commits of each
(address, name) as the log streams (`Aggregator.author_names`); only when that log did not hand on every commit of
the window (git stopped early) does `author_names` count them with a diff-less `git log --format=%aE%x00%aN` of its
own (about 0.5 s of CPU for terraform's 35,800 commits). An identity is named, and compared by name, under its
most frequent name only (ties: the name the history pass saw first, the newest).

Merging is transitive (a union of the pairs). The merged author keeps the key, name and e-mail of the identity
with the most commits (ties: the smaller key) and sums the others' commits and lines.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..gitsafe import git_command, git_env
from .aggregate import AuthorAcc
from .gitlog import LogRequest

MIN_HANDLE_LENGTH = 8
NOREPLY = re.compile(r"^(?:\d+\+)?(?P<login>[^@\s]+)@users\.noreply\.github\.com$", re.IGNORECASE)
PLACEHOLDER_NAMES = frozenset({
    "root", "admin", "administrator", "user", "unknown", "ubuntu", "your name", "yourname", "name", "none", "nobody",
    "anonymous", "test", "tester", "dev", "developer", "localhost", "system", "default", "no author", "no name",
    "builder", "build", "ci", "bot", "git", "github", "gitlab", "travis", "jenkins",
})
_NOT_WORD = re.compile(r"[\W_]+")


def normalised_name(name: str) -> str | None:
    """The name as compared (see the module doc), or None when it does not identify a person."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    words = _NOT_WORD.sub(" ", plain).strip()
    if not words or words in PLACEHOLDER_NAMES or not any(ch.isalpha() for ch in words):
        return None
    if " " not in words and len(words) < MIN_HANDLE_LENGTH:
        return None
    return words


def noreply_login(email: str) -> str | None:
    match = NOREPLY.match(email.strip())
    return match.group("login").lower() if match else None


@dataclass
class Merged:
    """The outcome: `canonical` maps every author key to its person's key; `authors` is keyed by those."""

    canonical: dict[str, str]
    authors: dict[str, AuthorAcc]
    by_rule: Counter[str] = field(default_factory=Counter)  # identities folded in, per rule that first joined them
    groups: list[list[str]] = field(default_factory=list)  # keys of each person with more than one identity

    @property
    def folded(self) -> int:
        """Identities folded into another one: identities before - people after."""
        return len(self.canonical) - len(self.authors)

    def note(self) -> str | None:
        if not self.folded:
            return None
        rules = ", ".join(f"{count} by {rule}" for rule, count in sorted(self.by_rule.items()))
        return (f"{len(self.canonical)} author identities merged into {len(self.authors)} people ({self.folded} "
                f"identities folded into another: {rules}); .mailmap was applied by git before")


def author_names(root: Path, request: LogRequest) -> dict[str, Counter[str]] | None:
    """Commits per (identity key, name) over the window of `request`, keyed as the history pass keys authors (the
    e-mail lowercased, or the name when there is none); None when git fails (names then stay as the pass saw them).
    Streamed: memory grows with the distinct identities, not the commits."""
    import subprocess

    args = ["log", "--no-ext-diff", "--no-textconv", "--no-show-signature", "--no-color", "--encoding=UTF-8",
            "--format=%aE%x00%aN", *(["--relative"] if request.relative else []), *request.revisions, "--",
            *request.pathspecs]
    try:
        proc = subprocess.Popen(git_command(root, *args), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                stdin=subprocess.DEVNULL, env={**git_env(), "GIT_NO_LAZY_FETCH": "1"})
    except OSError:
        return None
    if proc.stdout is None:  # never: a pipe was asked for
        proc.kill()
        return None
    lines = Counter(proc.stdout)  # one line per commit; identical lines counted in C
    if proc.wait() != 0:
        return None
    names: dict[str, Counter[str]] = {}
    for line, count in lines.items():
        email, _, name = line.rstrip(b"\n").partition(b"\x00")
        text_email, text_name = email.decode("utf-8", "replace"), name.decode("utf-8", "replace")
        names.setdefault(text_email.lower() or text_name, Counter())[text_name] += count
    return names


def merge_identities(authors: Mapping[str, AuthorAcc],
                     names: Mapping[str, Counter[str]] | None = None) -> Merged:
    """Merge the identities of `authors` (key: e-mail lowercased, or the name when there is no e-mail); `names`
    (from `author_names`) gives each its most frequent name."""
    if names:
        authors = {key: _main_name(acc, names.get(key)) for key, acc in authors.items()}
    parent = {key: key for key in authors}

    def find(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    by_rule: Counter[str] = Counter()

    def union(first: str, second: str, rule: str) -> None:
        a, b = find(first), find(second)
        if a != b:
            parent[b] = a
            by_rule[rule] += 1

    seen: dict[tuple[str, str], str] = {}
    for key in sorted(authors):
        acc = authors[key]
        for rule, value in (("the same GitHub noreply login", noreply_login(acc.email)),
                            ("the same normalised name", normalised_name(acc.name))):
            if value is None:
                continue
            other = seen.setdefault((rule, value), key)
            if other != key:
                union(other, key, rule)
    members: dict[str, list[str]] = {}
    for key in authors:
        members.setdefault(find(key), []).append(key)
    canonical: dict[str, str] = {}
    merged: dict[str, AuthorAcc] = {}
    groups: list[list[str]] = []
    for keys in members.values():
        keys.sort(key=lambda k: (-authors[k].commits, k))
        head = authors[keys[0]]
        person = AuthorAcc(name=head.name, email=head.email, commits=0, first=head.first, last=head.last)
        for key in keys:
            acc = authors[key]
            canonical[key] = keys[0]
            person.commits += acc.commits
            person.added += acc.added
            person.deleted += acc.deleted
            person.first = min(person.first, acc.first)
            person.last = max(person.last, acc.last)
        merged[keys[0]] = person
        if len(keys) > 1:
            groups.append(keys)
    groups.sort(key=lambda keys: (-merged[keys[0]].commits, keys[0]))
    return Merged(canonical=canonical, authors=merged, by_rule=by_rule, groups=groups)


def _main_name(acc: AuthorAcc, counts: Counter[str] | None) -> AuthorAcc:
    if not counts:
        return acc
    best = max(counts.items(), key=lambda kv: (kv[1], kv[0] == acc.name))[0]
    return acc if best == acc.name else replace(acc, name=best)


def remap(weights: Mapping[str, int], canonical: Mapping[str, str]) -> dict[str, int]:
    """Per-author sums re-keyed by person (the sums of one person's identities added)."""
    out: dict[str, int] = {}
    for key, value in weights.items():
        person = canonical.get(key, key)
        out[person] = out.get(person, 0) + value
    return out
