"""A repeat scan of a folder in which nothing the last scan looked at has changed: answered with that scan's result.

A scan's Inventory is a function of the code (the memo store's fingerprint), the options (`only`, fixtures,
`--exclude`, the size cap), the listing (the files and the listing's problems), what each file the detectors read
gave (its bytes, or the error that stopped it) and the executable bits the script detector looked at: detectors read
files only through `DetectContext`, and nothing else (clock, environment) reaches them. The git facts (`git`) are
read again each time. So a scan that remembers writes a record of all of it, with its Inventory, next to the memo's
entries; the next scan lists the folder, reads the files the record names, in its order, and looks at the same bits:

    reused  <=>  same options and listing, every file read gives what it gave, every bit is as it was

When it is reused the detectors do not run at all (hashicorp/terraform: 1,826 files read and hashed and one
Inventory validated from JSON, against 1,669 remembered calls replayed and the finalizers run again). At the first
difference the scan goes on as a remembering scan does, handing it the files already read so that none is read
twice. The record is JSON read back through the Inventory model's validation, like the memo's entries, and is kept
only when no call of the scan met the recursion limit or ran out of memory (`limits.note_exhausted`) or ran over its
time budget (how far it got depends on the machine's load), and no file read twice in the scan gave two different
outcomes (it changed in between: the findings mix both versions; `DetectContext.not_recorded`), and is used only by
a scan with at least the stack headroom it was made with (see `_memo.stack_headroom`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import ConfinementError, ReadError
from ..models import Inventory
from ..repo import FileText, Listing, Workspace
from ._memo import read_outcome

log = logging.getLogger(__name__)

MAX_READ_AHEAD_BYTES = 64 * 1024 * 1024  # texts read to check a record and kept for the scan that follows


def options_key(*, only: set[str] | None, include_fixtures: bool, exclude: Sequence[str], max_file_bytes: int,
                code: Sequence[str] = ()) -> str:
    """The options that change what a scan finds, and the detectors and finalizers it runs (`code`: a caller may
    have registered or taken out one since the record), as one text."""
    return json.dumps({"only": sorted(only) if only is not None else None, "fixtures": include_fixtures,
                       "exclude": list(exclude), "max_file_bytes": max_file_bytes, "code": list(code)},
                      sort_keys=True)


def listing_key(files: Sequence[str], listing: Listing) -> str:
    """sha256 of the scanned files' paths and of the listing's problems, in order."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.encode("utf-8", "surrogatepass") + b"\x00")
    digest.update(b"\x01")
    for path, reason in listing.problems:
        digest.update(f"{path}\x00{reason}\x00".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def make_record(*, options: str, listing: str, headroom: int, reads: dict[str, str], modes: dict[str, bool],
                inventory: Inventory) -> bytes:
    """The record of a finished scan (see the module doc): one line of JSON for what it depends on, then the
    Inventory's JSON as it is (not escaped into a string of the first: it is most of the record)."""
    head = json.dumps({"options": options, "listing": listing, "headroom": headroom, "reads": list(reads.items()),
                       "modes": list(modes.items())}, separators=(",", ":"), ensure_ascii=True).encode()
    return head + b"\n" + inventory.model_dump_json().encode()


def reuse(
    record: bytes | None, workspace: Workspace, *, options: str, listing: str, headroom: int,
    preread: dict[str, FileText | ReadError | ConfinementError],
    progress: Callable[[int, int], None] | None, total: int,
) -> Inventory | None:
    """The Inventory of the record when nothing it depends on changed, else None. Files read while checking are left
    in `preread` for the scan that follows (up to MAX_READ_AHEAD_BYTES of them). `progress` hears of the end only (a
    check that fails hands over to a scan that counts its files from the first)."""
    fields = _fields(record)
    if fields is None or fields["options"] != options or fields["listing"] != listing:
        return None
    if not isinstance(fields["headroom"], int) or fields["headroom"] > headroom:
        return None
    reads, modes = fields["reads"], fields["modes"]
    kept_bytes = 0
    for path, outcome in reads:
        read: FileText | ReadError | ConfinementError
        try:
            read = workspace.read_text(path, digest=True)
        except (ReadError, ConfinementError) as exc:
            read = exc
        if kept_bytes < MAX_READ_AHEAD_BYTES:
            preread[path] = read
            kept_bytes += read.size if isinstance(read, FileText) else 0
        if read_outcome(read) != outcome:
            log.debug("scan record of %s not reused: %s changed", workspace.root, path)
            return None
    for path, executable in modes:
        if workspace.is_executable(path) != executable:
            return None
    try:
        inventory = Inventory.model_validate_json(fields["inventory"])
    except ValueError:  # pydantic's ValidationError: not an Inventory
        return None
    if progress is not None:
        progress(total, total)
    return inventory.model_copy(update={"git": workspace.git_info()})


def _fields(record: bytes | None) -> dict[str, Any] | None:
    """The record's fields when it has the shape `make_record` gives, else None."""
    if record is None:
        return None
    head, newline, inventory = record.partition(b"\n")
    try:
        fields = json.loads(head)
    except ValueError:
        return None
    if not newline or not isinstance(fields, dict) or not all(isinstance(fields.get(k), str)
                                                              for k in ("options", "listing")):
        return None
    fields["inventory"] = inventory
    reads, modes = fields.get("reads"), fields.get("modes")
    if not isinstance(reads, list) or not all(isinstance(r, list) and len(r) == 2 and all(isinstance(x, str) for x in r)
                                              for r in reads):
        return None
    if not isinstance(modes, list) or not all(isinstance(m, list) and len(m) == 2 and isinstance(m[0], str)
                                              and isinstance(m[1], bool) for m in modes):
        return None
    return fields
