"""The history pass's sums, fed record by record from the `git log` stream (`gitlog.RecordSink`).

Nothing per commit is kept here except the compact columns of `commits.CommitTable` (DORA's needs): files,
authors and weeks are numbered, and every sum is a list slot or a dict entry per file, per (file, author) pair,
per directory, per author or per ISO week. So the memory this module holds grows with the files, authors and weeks
of the history, not with its commits; the table adds about 200 bytes per commit and 4 per file change.

The records come a block at a time (what one read of the pipe brought) and go through one loop with its state in
local variables. Per file change it does one dict lookup for the file id (paths stay bytes: they are decoded once
per file, when first met) and one for the (file, author) entry, whose three sums (revisions, lines added, lines
deleted) are all it adds to; a file's and an author's totals are added up from those entries at the end. Records
whose times are not numbers (a damaged stream) are skipped, as `gitlog.parse_record` does.

Renames (`-M`): the old path becomes another name of the new path's id, so the old path's earlier history (met
later: the stream runs newest first) is counted under the new name.

The ISO week of a time is `(t // 86400 + 3) // 7`: 1970-01-01 was a Thursday, so day -3 is the Monday that
starts week 0. It is turned into (ISO year, week) once per week at the end.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from .commits import PLACEHOLDER, READ, CommitTable
from .dora import HOTFIX, REVERT_BODY, iso
from .gitlog import NUMSTAT
from .models import Revert
from .paths import directory_of

COUPLING_MAX_CHANGESET = 30  # code-maat's default: commits touching more files say nothing about coupling
AUTHOR_BITS = 24  # (file id << AUTHOR_BITS) | author id keys the per-(file, author) sums
_HOTFIX_BYTES = re.compile(rb"hot-?fix", re.IGNORECASE)
_EPOCH_MONDAY = date(1969, 12, 29)
_NEVER = float("inf")  # a sentinel only until the first commit: every time is an int


@dataclass
class FileAcc:
    revisions: int = 0
    added: int = 0
    deleted: int = 0
    binary: bool = False
    author_revs: dict[str, int] = field(default_factory=dict)


@dataclass
class DirAcc:
    files: set[str] = field(default_factory=set)
    revisions: int = 0
    added: int = 0
    deleted: int = 0
    author_lines: Counter[str] = field(default_factory=Counter)
    author_revs: Counter[str] = field(default_factory=Counter)


@dataclass
class Week:
    commits: int = 0
    authors: set[str] = field(default_factory=set)


@dataclass
class AuthorAcc:
    name: str
    email: str
    commits: int = 0
    added: int = 0
    deleted: int = 0
    first: int = 0
    last: int = 0


class Aggregator:
    """The sink of the log stream: call it with each record's header fields and numstat bytes."""

    def __init__(self, *, renames: bool, dir_depth: int) -> None:
        self.renames = renames
        self.dir_depth = dir_depth
        self.table = CommitTable()
        self.reverts: list[Revert] = []
        self.commits = self.merges = 0
        self.first_author_time: int | None = None
        self.last_author_time: int | None = None
        self.first_commit_time: int | None = None
        self.last_commit_time: int | None = None
        # files
        self.ids: dict[bytes, int] = {}  # a path as git prints it (or a renamed file's old path) -> file id
        self.name_ids: dict[str, int] = {}
        self.names: list[str] = []
        self.binary: set[int] = set()
        # file id << AUTHOR_BITS | author id -> [revisions, lines added, lines deleted]; the files' and the authors'
        # own sums are added up from these at the end (one dict lookup per file change in the stream)
        self.file_author: dict[int, list[int]] = {}
        self.dir_ids: list[int] = []  # file id -> directory id
        self.dirs: list[str] = []
        self.dir_index: dict[str, int] = {}
        self.dir_revs: list[int] = []
        # logical coupling's first pass (history._coupling): revisions over the commits of at most
        # COUPLING_MAX_CHANGESET files, and how many commits were larger
        self.coupling_revs: list[int] = []
        self.coupling_skipped = 0
        # authors
        # identities: raw `email NUL name` as git printed them (mailmap applied) -> identity id; identity id ->
        # author id, and its commits (identities.merge_identities names an author by its most frequent name)
        self.author_ids: dict[bytes, int] = {}
        self.identities: list[bytes] = []
        self.identity_author: list[int] = []
        self.identity_commits: list[int] = []
        self.key_ids: dict[str, int] = {}  # email.lower() or name -> author id
        self.authors: list[AuthorAcc] = []
        self.keys: list[str] = []
        self.weeks: dict[int, tuple[list[int], set[int]]] = {}

    # ------------------------------------------------------------------ the hot path

    def __call__(self, records: list[bytes], end: bytes) -> tuple[int, bytes]:
        """A block of raw records (`gitlog.RecordSink`: each `header + end + numstat`, the begin marker removed):
        returns how many had a complete header, and the sha of the last of them.

        One loop for the whole block with everything it touches in local variables: a method call or an attribute
        lookup per commit costs as much as the sums themselves (35,800 small commits: 9 µs of Python each, in five
        calls per commit, before this was one loop)."""
        handed = 0
        last = b""
        commits, merges = self.commits, self.merges
        # Sentinels until a commit is read; the first one read sets both ends (two ifs, not if/elif).
        first_a = self.first_author_time if self.first_author_time is not None else _NEVER
        last_a = self.last_author_time if self.last_author_time is not None else -_NEVER
        first_c = self.first_commit_time if self.first_commit_time is not None else _NEVER
        last_c = self.last_commit_time if self.last_commit_time is not None else -_NEVER
        author_ids, authors, weeks = self.author_ids, self.authors, self.weeks
        identity_author, identity_commits = self.identity_author, self.identity_commits
        table = self.table
        index, new_row, state, ctime = table.index, table.row, table.state, table.time
        parent_at, parent_n, parent_rows = table.parent_at, table.parent_n, table.parent_rows
        file_at, file_n, file_ids, order = table.file_at, table.file_n, table.file_ids, table.order
        shas, add_sha, add_state, add_time = table.shas, table.shas.append, state.append, ctime.append
        add_parent_at, add_parent_n = parent_at.append, parent_n.append
        add_file_at, add_file_n = file_at.append, file_n.append
        ids, new_file, renames, binary = self.ids, self._file, self.renames, self.binary
        file_author = self.file_author
        dir_ids, dir_revs, coupling_revs = self.dir_ids, self.dir_revs, self.coupling_revs
        numstat = NUMSTAT.findall
        week_now = None
        bucket: list[int] = []
        week_authors: set[int] = set()
        for record in records:
            head, sep, stats = record.partition(end)
            if not sep:
                continue
            try:
                sha, parents, author_time, commit_time, people = head.split(b"\x1f", 4)
                email, name, message = people.split(b"\x00", 2)
            except ValueError:  # an incomplete header (only ever a damaged stream)
                continue
            handed += 1
            last = sha
            try:
                a_time, c_time = int(author_time), int(commit_time)
            except ValueError:
                continue
            commits += 1
            identity = author_ids.get(people[:len(email) + len(name) + 1])
            if identity is None:
                identity = self._author(email, name, a_time)
            identity_commits[identity] += 1
            aid = identity_author[identity]
            author = authors[aid]
            author.commits += 1
            if a_time < author.first:
                author.first = a_time
            elif a_time > author.last:
                author.last = a_time
            if a_time < first_a:
                first_a = a_time
            if a_time > last_a:
                last_a = a_time
            if c_time < first_c:
                first_c = c_time
            if c_time > last_c:
                last_c = c_time
            week = (a_time // 86400 + 3) // 7
            if week != week_now:  # neighbours in the log are mostly in the same week
                week_now = week
                found = weeks.get(week)
                if found is None:
                    found = weeks[week] = ([0], set())
                bucket, week_authors = found
            bucket[0] += 1
            week_authors.add(aid)
            # The commit table (CommitTable.add, inlined): a read commit is usually already a row, made when its
            # child named it as a parent.
            row = index.get(sha.decode("ascii", "replace"))
            if row is None:
                row = new_row(sha.decode("ascii", "replace"))
            state[row] = READ
            ctime[row] = c_time
            parent_list = parents.decode("ascii", "replace").split()
            parent_at[row] = len(parent_rows)
            parent_n[row] = len(parent_list)
            for parent in parent_list:
                found_row = index.get(parent)
                if found_row is None:  # CommitTable.row, inlined: a placeholder until the parent is read
                    found_row = index[parent] = len(shas)
                    add_sha(parent)
                    add_state(PLACEHOLDER)
                    add_time(0)
                    add_parent_at(0)
                    add_parent_n(0)
                    add_file_at(0)
                    add_file_n(0)
                parent_rows.append(found_row)
            if len(parent_list) > 1:
                merges += 1
            order.append(row)
            if len(stats) > 2:
                fids: list[int] = []
                for lines_added, lines_deleted, path, old, new in numstat(stats):
                    key = path or new
                    fid = ids.get(key)
                    if fid is None:
                        fid = new_file(key)
                    if old and renames:
                        ids[old] = fid
                    pair = file_author.get(fid << AUTHOR_BITS | aid)
                    if lines_added == b"-":
                        binary.add(fid)
                        if pair is None:
                            file_author[fid << AUTHOR_BITS | aid] = [1, 0, 0]
                        else:
                            pair[0] += 1
                    elif pair is None:
                        file_author[fid << AUTHOR_BITS | aid] = [1, int(lines_added), int(lines_deleted)]
                    else:
                        pair[0] += 1
                        pair[1] += int(lines_added)
                        pair[2] += int(lines_deleted)
                    fids.append(fid)
                if fids:
                    file_at[row] = len(file_ids)
                    file_n[row] = len(fids)
                    file_ids.extend(fids)
                    if len(fids) == 1:
                        dir_revs[dir_ids[fids[0]]] += 1
                        coupling_revs[fids[0]] += 1
                    else:
                        for directory in {dir_ids[f] for f in fids}:  # each commit counts once per directory
                            dir_revs[directory] += 1
                        touched = set(fids)
                        if len(touched) > COUPLING_MAX_CHANGESET:
                            self.coupling_skipped += 1
                        else:
                            for touched_id in touched:
                                coupling_revs[touched_id] += 1
            # Reverts and hotfixes: the lower-case test is a superset of what _message looks for, and cheaper than
            # a case-insensitive search of every message.
            lowered = message.lower()
            if b"evert" in lowered or b"hot" in lowered:
                self._message(row, c_time, message)
        self.commits, self.merges = commits, merges
        if commits:
            self.first_author_time, self.last_author_time = int(first_a), int(last_a)
            self.first_commit_time, self.last_commit_time = int(first_c), int(last_c)
        return handed, last

    # ------------------------------------------------------------------ first sightings

    def _author(self, email: bytes, name: bytes, when: int) -> int:
        """A new identity (an author's first commit under this email and name): its id."""
        text_email = email.decode("utf-8", "replace")
        text_name = name.decode("utf-8", "replace")
        key = text_email.lower() or text_name
        aid = self.key_ids.get(key)
        if aid is None:
            aid = self.key_ids[key] = len(self.authors)
            self.authors.append(AuthorAcc(name=text_name, email=text_email, first=when, last=when))
            self.keys.append(key)
        raw = email + b"\x00" + name
        identity = self.author_ids[raw] = len(self.identities)
        self.identities.append(raw)
        self.identity_author.append(aid)
        self.identity_commits.append(0)
        return identity

    def _file(self, key: bytes) -> int:
        name = key.decode("utf-8", "replace")
        fid = self.name_ids.get(name)
        if fid is None:
            fid = self.name_ids[name] = len(self.names)
            self.names.append(name)
            self.coupling_revs.append(0)
            directory = directory_of(name, self.dir_depth)
            did = self.dir_index.get(directory)
            if did is None:
                did = self.dir_index[directory] = len(self.dirs)
                self.dirs.append(directory)
                self.dir_revs.append(0)
            self.dir_ids.append(did)
        self.ids[key] = fid
        return fid

    def _message(self, row: int, when: int, raw: bytes) -> None:
        """Reverts and hotfix subjects: the few commits whose message DORA reads."""
        if b"evert" not in raw and not _HOTFIX_BYTES.search(raw):
            return
        message = raw.decode("utf-8", "replace")
        subject = message.split("\n", 1)[0].strip()
        if HOTFIX.search(subject):
            self.table.subjects[row] = subject
        if b"evert" in raw:
            match = REVERT_BODY.search(message)
            if match or subject.startswith('Revert "'):
                self.reverts.append(Revert(commit=self.table.shas[row], time=iso(when), subject=subject,
                                           reverts=match.group(1) if match else None))

    # ------------------------------------------------------------------ the sums, per name

    def files(self) -> dict[str, FileAcc]:
        """Per-file sums under each file's current name (O(files x their authors)): a file's revisions and lines
        are the sums of its (file, author) entries, met in the order the stream first met each pair; `author_revs`
        holds the revisions per author key."""
        accs = [FileAcc() for _ in self.names]
        for fid in self.binary:
            accs[fid].binary = True
        keys = self.keys
        mask = (1 << AUTHOR_BITS) - 1
        for packed, (revisions, plus, minus) in self.file_author.items():
            acc = accs[packed >> AUTHOR_BITS]
            acc.revisions += revisions
            acc.added += plus
            acc.deleted += minus
            acc.author_revs[keys[packed & mask]] = revisions
        return {self.names[fid]: acc for fid, acc in enumerate(accs) if acc.revisions}

    def directories(self, files: dict[str, FileAcc], person: Mapping[str, str] | None = None) -> dict[str, DirAcc]:
        """Directory sums of the files in `files` (renamed files count under their current name): lines added and
        deleted, and per author (re-keyed by `person` when given: one person's identities summed) the revisions and
        the lines added + deleted, summed straight from the (file, author) entries (O(files x their authors))."""
        dirs: dict[str, DirAcc] = {}
        by_id: dict[int, DirAcc] = {}
        name_ids, dir_ids = self.name_ids, self.dir_ids
        for name, acc in files.items():
            did = dir_ids[name_ids[name]]
            target = by_id.get(did)
            if target is None:
                target = by_id[did] = dirs[self.dirs[did]] = DirAcc(revisions=self.dir_revs[did])
            target.files.add(name)
            target.added += acc.added
            target.deleted += acc.deleted
        # Summed per (directory, author) first: one dict update per entry, then one per pair.
        kept = {name_ids[name] for name in files}
        mask = (1 << AUTHOR_BITS) - 1
        pairs: dict[int, list[int]] = {}
        for packed, (revisions, plus, minus) in self.file_author.items():
            fid = packed >> AUTHOR_BITS
            if fid not in kept:
                continue
            pair = dir_ids[fid] << AUTHOR_BITS | packed & mask
            sums = pairs.get(pair)
            if sums is None:
                pairs[pair] = [revisions, plus + minus]
            else:
                sums[0] += revisions
                sums[1] += plus + minus
        keys = self.keys
        for pair, (revisions, lines) in pairs.items():
            target = by_id[pair >> AUTHOR_BITS]
            key = keys[pair & mask]
            if person is not None:
                key = person.get(key, key)
            target.author_revs[key] = target.author_revs.get(key, 0) + revisions
            target.author_lines[key] = target.author_lines.get(key, 0) + lines
        return dirs

    def iso_weeks(self) -> dict[tuple[int, int], Week]:
        weeks: dict[tuple[int, int], Week] = {}
        keys = self.keys
        for number, (count, authors) in self.weeks.items():
            monday = (_EPOCH_MONDAY + timedelta(days=7 * number)).isocalendar()
            weeks[(monday.year, monday.week)] = Week(commits=count[0], authors={keys[a] for a in authors})
        return weeks

    def author_names(self) -> dict[str, Counter[str]]:
        """Commits per (author key, name), the author keyed as `author_accs` keys it (the e-mail lowercased, or the
        name when there is none), names in the order the stream first met them: what `identities.author_names` reads
        with a git log of its own, counted here from the commits read."""
        names: dict[str, Counter[str]] = {}
        for raw, count in zip(self.identities, self.identity_commits, strict=True):
            email, _, name = raw.partition(b"\x00")
            text_email, text_name = email.decode("utf-8", "replace"), name.decode("utf-8", "replace")
            names.setdefault(text_email.lower() or text_name, Counter())[text_name] += count
        return names

    def author_accs(self) -> dict[str, AuthorAcc]:
        """Per-author sums; lines added and deleted are the sums of the author's (file, author) entries."""
        for author in self.authors:
            author.added = author.deleted = 0
        authors = self.authors
        mask = (1 << AUTHOR_BITS) - 1
        for packed, (_revisions, plus, minus) in self.file_author.items():
            author = authors[packed & mask]
            author.added += plus
            author.deleted += minus
        return dict(zip(self.keys, self.authors, strict=True))

