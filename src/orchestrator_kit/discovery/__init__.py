"""Discovery: every detector module in this package, run over a workspace, into one `Inventory`.

Detectors register themselves (see `base.detector`); `load_detectors()` imports every module here once.
`discover()` walks the listing once, reads each wanted file once, and hands it to every detector that wants it.
"""

from __future__ import annotations

import contextlib
import fnmatch
import gc
import importlib
import logging
import pkgutil
import re
import threading
from collections.abc import Callable, Iterator, Sequence

from ..excludes import excluded
from ..limits import exhausted, note_exhausted
from ..models import Diagnostic, Inventory
from ..repo import Workspace
from . import _watchdog as watchdog
from ._coverage import coverage_notes
from ._fixtures import FixtureFilter, split_fixtures
from ._memo import ScanMemo
from ._unchanged import listing_key, make_record, options_key, reuse
from .base import DETECTORS, FINALIZERS, VENDORED, DetectContext, Detector, Wants, all_finite, detector, finalizer

__all__ = ["DetectContext", "Detector", "Wants", "detector", "discover", "finalizer", "load_detectors"]

log = logging.getLogger(__name__)

_NOT_DETECTORS = {"base"}
_loaded = False

ProgressFn = Callable[[int, int], None]


def load_detectors() -> list[Detector]:
    """Import every detector module of this package (once) and return the registered detectors."""
    global _loaded
    if not _loaded:
        for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
            if module.name not in _NOT_DETECTORS and not module.name.startswith("_"):
                importlib.import_module(f"{__name__}.{module.name}")
        _loaded = True
    return list(DETECTORS)


def discover(
    workspace: Workspace,
    *,
    only: set[str] | None = None,
    progress: ProgressFn | None = None,
    include_fixtures: bool = False,
    exclude: Sequence[str] = (),
    remember: bool = False,
) -> Inventory:
    """Run the detectors (all, or those named in `only`) over the workspace and return the Inventory.

    Findings from test fixtures and copies of other projects are counted in `skipped_fixtures` and left out
    (before the finalizers link anything to them) unless `include_fixtures`. With `remember`, the costly detector
    calls whose inputs did not change since the folder's last scan are not run again (see `_memo`): the Inventory
    is the same, what an earlier scan found is added instead of found again."""
    detectors = [d for d in load_detectors() if only is None or d.name in only]
    listing = workspace.listing()
    # `--exclude` globs: those files are not read at all (see `excludes`)
    files = [f for f in listing.files if not excluded(f, exclude)] if exclude else listing.files
    ctx = DetectContext(workspace, files)
    memo = ScanMemo.load(workspace.root) if remember else None
    record_options = record_listing = ""
    exhausted_before = exhausted()
    foreign = _foreign(detectors) if memo is not None else frozenset()
    if memo is not None and not foreign:
        # A folder where nothing the last scan looked at changed gets that scan's Inventory (`_unchanged`).
        record_options = options_key(only=only, include_fixtures=include_fixtures, exclude=exclude,
                                     max_file_bytes=workspace.max_file_bytes, code=_code(detectors))
        record_listing = listing_key(files, listing)
        reused = reuse(memo.record, workspace, options=record_options, listing=record_listing,
                       headroom=memo.headroom, preread=ctx.preread, progress=progress, total=len(files))
        if reused is not None:
            log.debug("scan of %s: nothing it read changed since its last scan; that scan's Inventory", workspace.root)
            return reused
        ctx.reads = {}
    ctx.memo = memo
    ctx.foreign = foreign
    for path, reason in listing.problems:
        ctx.findings.diagnostics.append(Diagnostic(path=path, reason=reason, severity="warning"))

    total = len(files)
    step = max(1, total // 200)
    index_of = _WantsIndex(detectors)
    with _collector_paused():
        _read_all(ctx, index_of, files, progress, step)
    names = {d.name for d in detectors}
    ctx.active = frozenset(names) if only is not None else None
    fixture = FixtureFilter(files)
    skipped = split_fixtures(ctx.findings, fixture, include=include_fixtures)
    for fin in sorted(FINALIZERS, key=lambda f: (f.order, f.name)):
        _run_detector(ctx, fin.name, lambda fin=fin: fin.run(ctx), ".")

    found = ctx.findings
    paths_of = {name: {item.evidence.path for item in getattr(found, name)}
                for name in ("pipelines", "tasks", "schedules", "infrastructure", "procedures")}
    coverage = coverage_notes(files, found_paths=lambda name: paths_of[name], diagnostics=found.diagnostics,
                              skip=(lambda path: False) if include_fixtures else fixture)
    by_place = lambda item: (item.evidence.path, item.evidence.line_start)  # noqa: E731
    inventory = Inventory(
        root=str(workspace.root),
        git=workspace.git_info(),
        files_listed=total,
        files_read=ctx.files_read,
        detectors=sorted(names),
        pipelines=sorted(found.pipelines, key=by_place),
        tasks=sorted(found.tasks, key=by_place),
        schedules=sorted(found.schedules, key=by_place),
        infrastructure=sorted(found.infrastructure, key=by_place),
        procedures=sorted(found.procedures, key=by_place),
        diagnostics=sorted(found.diagnostics, key=lambda d: (d.path, d.line or 0, d.reason)),
        skipped_fixtures=skipped,
        coverage=coverage if only is None else [],
    )
    if memo is not None:
        log.debug("scan memo of %s: %d calls remembered, %d run", workspace.root, memo.hits, memo.misses)
        # (An infinite or NaN float would come back from the record's JSON as None: `base.all_finite`.)
        if exhausted() == exhausted_before and ctx.reads is not None and all_finite(inventory):
            memo.new_record = make_record(options=record_options, listing=record_listing, headroom=memo.headroom,
                                          reads=ctx.reads, modes=ctx.modes, inventory=inventory)
        memo.save()
    return inventory


def _foreign(detectors: list[Detector]) -> frozenset[str]:
    """The detectors and finalizers of a scan whose code is not this package's (a library user's own, registered
    with `detector` or `finalizer`), by name. The memo store's fingerprint covers the package's files only: a change
    to their code would go unseen, so their calls are not remembered (`DetectContext.remembered`) and a scan that
    runs one neither uses a record nor leaves one (`_unchanged`)."""
    package = __name__ + "."

    def own(*functions: object) -> bool:
        return all(fn is None or str(getattr(fn, "__module__", "")).startswith(package) for fn in functions)

    names = {det.name for det in detectors
             if not own(det.detect, det.wants.refine if isinstance(det.wants, Wants) else det.wants)}
    return frozenset(names | {fin.name for fin in FINALIZERS if not own(fin.run)})


def _code(detectors: list[Detector]) -> list[str]:
    """The detectors and finalizers a scan runs, by name (finalizers with their order): part of what its record
    depends on (`_unchanged.options_key`)."""
    finalizers = sorted(FINALIZERS, key=lambda f: (f.order, f.name))
    return [f"detector {d.name}" for d in detectors] + [f"finalizer {f.name} {f.order}" for f in finalizers]


def _read_all(
    ctx: DetectContext, index_of: _WantsIndex, files: list[str], progress: ProgressFn | None, step: int
) -> None:
    """Read each wanted file once and hand it to every detector that wants it."""
    total = len(files)
    for index, path in enumerate(files):
        wanting = index_of.wanting(path)
        if wanting:
            file = ctx.read(path)
            if file is not None:
                for det in wanting:
                    _run_detector(ctx, det.name, lambda det=det, file=file: det.detect(ctx, file), path)
            ctx.forget(path)
        if progress is not None and (index % step == 0 or index == total - 1):
            progress(index + 1, total)


_pause_lock = threading.Lock()
_pausers = 0
_resume_collector = False  # whether the collector was on when the first of the current pausers came


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while files are parsed: about 10% of a scan went to collections
    triggered by the many short-lived YAML and model objects, none of which needs the cycle collector. Counted, so
    that concurrent scans (the MCP server's worker threads) turn it back on only when the last one ends."""
    global _pausers, _resume_collector
    # The count goes up first and inside the `try`: an exception raised in this thread from outside (the MCP call
    # budget's) lands only after a C call, so wherever it lands the `finally` undoes what was done. Counting after
    # gc.disable(), before the `try`, left the collector off for the rest of the server's life when a call ran out
    # of time there (17 of 300 trials).
    try:
        with _pause_lock:
            _pausers += 1
            if _pausers == 1:
                _resume_collector = gc.isenabled()
                gc.disable()
        yield
    finally:
        with _pause_lock:
            _pausers -= 1
            if _pausers == 0 and _resume_collector:
                gc.enable()


_WILDCARD = re.compile(r"[*?\[]")


class _WantsIndex:
    """Finds the detectors that want a path with a few dict look-ups and one regex, not one call per detector.

    `Wants` are indexed by exact base name, by folder name, and through one combined glob regex that rules
    out most files at once; plain predicates (the slow path) are still called for every file.
    """

    def __init__(self, detectors: list[Detector]) -> None:
        self.order = {d.name: i for i, d in enumerate(detectors)}
        self.by_name: dict[str, list[Detector]] = {}
        self.by_dir: dict[str, list[Detector]] = {}
        self.globbed: list[Detector] = []
        self.prefixed: list[Detector] = []
        self.predicates: list[Detector] = []
        globs: list[str] = []
        for det in detectors:
            wants = det.wants
            if not isinstance(wants, Wants):
                self.predicates.append(det)
                continue
            for name in wants.names:
                self.by_name.setdefault(name, []).append(det)
            for folder in wants.dirs:
                self.by_dir.setdefault(folder, []).append(det)
            if wants.globs:
                self.globbed.append(det)
                globs.extend(wants.globs)
            if wants.prefixes:
                self.prefixed.append(det)
        # `*.ext` globs are a suffix test (str.endswith over a tuple, in C); only the others go into one regex, whose
        # alternation of leading `.*` patterns is what costs time on every file of a big repository.
        suffixes = [g.lower()[1:] for g in globs if g.startswith("*") and not _WILDCARD.search(g[1:])]
        patterns = [g.lower() for g in globs if not (g.startswith("*") and not _WILDCARD.search(g[1:]))]
        self.any_suffix = tuple(dict.fromkeys(suffixes))
        # A pattern that ends with one of the suffixes is already let through by the suffix test.
        patterns = [g for g in patterns if not g.endswith(self.any_suffix)]
        self.any_glob = re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in patterns)) if patterns else None
        # What those patterns start with, up to their first wildcard: a name that starts with none of them cannot
        # match (one `startswith` in C rules out nearly every file before the regex is tried). None when a pattern
        # starts with a wildcard.
        literal = tuple(_WILDCARD.split(g, 1)[0] for g in patterns)
        self.glob_starts = literal if all(literal) else None
        self.all_prefixes = tuple(p for det in self.prefixed for p in det.wants.prefixes)  # type: ignore[union-attr]
        # Globs see only the lower-cased base name, and a repository repeats a few of them in every folder (main.tf,
        # README.md, action.yml): the detectors a base name's globs select are worked out once per name and scan.
        self.by_glob: dict[str, list[Detector]] = {}
        # Per folder of this scan (a listing is sorted, so a folder's files come together): whether it lies under a
        # vendored folder (bit 1) and whether its folder names select detectors (bit 2: those are in `dir_detectors`,
        # in the order of its parts). Plain ints: a container per folder (12,000 on the synthetic repository) was
        # that many more objects for the cyclic collector to go through when the scan turns it back on.
        self.folder_bits: dict[str, int] = {}
        self.dir_detectors: dict[str, tuple[Detector, ...]] = {}
        self.dir_names = frozenset(self.by_dir)

    def wanting(self, path: str) -> list[Detector]:
        slash = path.rfind("/")
        base = path[slash + 1 :]
        folder = path[:slash] if slash > 0 else ""
        bits = self.folder_bits.get(folder)
        if bits is None:
            dirs = folder.lower().split("/") if folder else []  # folder names match case-insensitively
            bits = 1 if not VENDORED.isdisjoint(dirs) else 0
            if not self.dir_names.isdisjoint(dirs):  # most folders: this one set operation
                self.dir_detectors[folder] = tuple(det for part in dirs for det in self.by_dir.get(part, ()))
                bits |= 2
            self.folder_bits[folder] = bits
        in_dir = self.dir_detectors[folder] if bits & 2 else ()
        in_vendored = bits & 1
        lower = base.lower()
        # Fast exit for the bulk of a repository (source files): set and regex operations in C, no loop.
        named = base in self.by_name
        globbed = lower.endswith(self.any_suffix) or (
            self.any_glob is not None
            and (self.glob_starts is None or lower.startswith(self.glob_starts))
            and self.any_glob.match(lower) is not None
        )
        prefixed = bool(self.all_prefixes) and path.startswith(self.all_prefixes)
        if not (named or in_dir or globbed or prefixed):
            return [d for d in self.predicates if d.wants(path)] if self.predicates else []
        found: dict[str, Detector] = {d.name: d for d in self.by_name.get(base, ())} if named else {}
        for det in in_dir:
            found[det.name] = det
        if globbed:
            matched = self.by_glob.get(lower)
            if matched is None:
                matched = [det for det in self.globbed if det.wants.glob_regex.match(lower)]  # type: ignore[union-attr]
                self.by_glob[lower] = matched
            for det in matched:
                found[det.name] = det
        if prefixed:
            for det in self.prefixed:
                if path.startswith(det.wants.prefixes):  # type: ignore[union-attr]
                    found[det.name] = det
        chosen = []
        for det in found.values():
            wants = det.wants
            if not isinstance(wants, Wants) or (in_vendored and not wants.vendored_too):
                continue
            if wants.refine is None or wants.refine(path):
                chosen.append(det)
        if self.predicates:
            chosen.extend(d for d in self.predicates if d.wants(path))
        if len(chosen) > 1:
            chosen.sort(key=lambda d: self.order[d.name])
        return chosen


def _run_detector(ctx: DetectContext, name: str, call: Callable[[], None], path: str) -> None:
    """Run one detector call under the per-file time budget (`watchdog`); an exception or an overrun becomes a
    Diagnostic instead of ending (or stalling) the scan."""
    ctx.current_detector = name
    try:
        if not watchdog.run_within(watchdog.FILE_SECONDS, call):
            # How far it got depends on the machine's load, not on the files: the next scan must run it again.
            ctx.not_recorded(f"detector '{name}' ran over its budget on {path}")
            ctx.diagnostic(path, f"detector '{name}' ran over its {watchdog.FILE_SECONDS:g} s budget for one file "
                                 "and was stopped; what it found in this file may be incomplete", severity="warning")
    except Exception as exc:  # a detector bug must not cost the user the rest of the scan
        if isinstance(exc, (RecursionError, MemoryError)):
            note_exhausted()  # the stack's depth or the memory left decided it: no record, no memo entry
        log.debug("detector %s failed on %s", name, path, exc_info=True)
        ctx.diagnostic(path, f"internal error in detector '{name}': {type(exc).__name__}: {exc}", severity="error")
    finally:
        ctx.current_detector = None
