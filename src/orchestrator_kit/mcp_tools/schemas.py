"""The tools' JSON Schemas, kept in the user's cache so that a server does not build them at every start-up.

The file is `<cache_dir>/mcp-tool-schemas.json` (see `usercache.cache_dir`): for every tool, its input schema with
the signature it was made from and the name of its Context parameter, and each result model's output schema, each
exactly what the installed SDK derived (`Tool.from_function`, `registry.live_output_schema`).

It is checked by content, never by a version stamp. The file is keyed by `source_key()`: a digest of the path, size
and modification time of every source file of the packages the schemas come from (this package, pydantic,
pydantic-core, mcp and their typing helpers), so installing, upgrading or editing any of them makes the next server
build its tools live and write the file again (hashing ~400 file stats takes a few milliseconds). Within one key,
an entry is used only for the signature it was made from, and on a tool's first call (when its argument model is
built anyway) the entry is compared with what the SDK derives now; a difference corrects the tool and the entry. A
missing, unreadable or malformed file only means the next server builds its tools live once.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import inspect
import json
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..usercache import cache_dir, write_atomically

if TYPE_CHECKING:
    from .registry import ToolRegistry

FILE_NAME = "mcp-tool-schemas.json"
# The packages whose code decides the schemas: the tools and models, pydantic's generator, the SDK's wrapping.
SOURCE_PACKAGES = ("orchestrator_kit", "pydantic", "pydantic_core", "mcp", "mcp_types", "annotated_types",
                   "typing_extensions")
SOURCE_SUFFIXES = (".py", ".so", ".pyd")
_lock = threading.Lock()  # one writer per process; os.replace keeps concurrent processes whole


def cache_path() -> Path:
    return cache_dir() / FILE_NAME


@functools.cache
def source_key() -> str:
    """A digest of (path, size, mtime) of every source file of SOURCE_PACKAGES, found without importing them."""
    digest = hashlib.sha256()
    for name in SOURCE_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None:
            continue
        for root in list(spec.submodule_search_locations or []) or [spec.origin or ""]:
            for path in _source_files(root):
                stat = os.stat(path)
                digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _source_files(root: str) -> list[str]:
    if os.path.isfile(root):
        return [root]
    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        found += [os.path.join(folder, f) for f in sorted(files) if f.endswith(SOURCE_SUFFIXES)]
    return found


def load() -> dict[str, Any]:
    """The cached schemas {"inputs": {tool: entry}, "outputs": {ref: schema}}; empty tables when there is none, or
    when it was written from other sources (another `source_key()`)."""
    try:
        data = json.loads(cache_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"inputs": {}, "outputs": {}}
    if not isinstance(data, dict) or data.get("key") != source_key():
        return {"inputs": {}, "outputs": {}}
    inputs, outputs = data.get("inputs"), data.get("outputs")
    return {
        "inputs": {k: v for k, v in inputs.items() if _is_entry(v)} if isinstance(inputs, dict) else {},
        "outputs": {k: v for k, v in outputs.items() if isinstance(v, dict)} if isinstance(outputs, dict) else {},
    }


def _is_entry(value: object) -> bool:
    return (isinstance(value, dict) and isinstance(value.get("signature"), str)
            and isinstance(value.get("parameters"), dict) and isinstance(value.get("context"), str | None))


def update(inputs: dict[str, dict[str, Any]], outputs: dict[str, dict[str, Any]]) -> None:
    """Merge these entries into the cache file (read, merge, write whole). A cache that cannot be written (a
    read-only home) is not an error: the server then builds its tools live at every start, as without a cache."""
    if not inputs and not outputs:
        return
    with _lock:
        cached = load()
        cached["inputs"].update(inputs)
        cached["outputs"].update(outputs)
        with contextlib.suppress(OSError):
            write_atomically(cache_path(), json.dumps({"key": source_key(), **cached}, sort_keys=True))


def current(registry: ToolRegistry) -> dict[str, Any]:
    """{"inputs", "outputs"} as the installed SDK derives them now, for every tool of `registry`."""
    from mcp.server.mcpserver.tools import Tool

    from .registry import _wrap, live_output_schema, output_of, signature_key

    inputs: dict[str, dict[str, Any]] = {}
    outputs: dict[str, dict[str, Any]] = {}
    for spec in registry.specs:
        ref, model = output_of(spec)
        live = Tool.from_function(_wrap(spec.fn, ref), name=spec.name, title=spec.title,
                                  description=inspect.cleandoc(spec.fn.__doc__ or ""), annotations=spec.annotations())
        inputs[spec.name] = {"signature": signature_key(spec.fn), "context": live.context_kwarg,
                             "parameters": live.parameters}
        if ref is not None and ref not in outputs:
            outputs[ref] = live_output_schema(ref, model)
    return {"inputs": inputs, "outputs": dict(sorted(outputs.items()))}


def write(registry: ToolRegistry) -> Path:
    """Build every schema of `registry` now and write them to the cache (what a first server start does)."""
    schemas = current(registry)
    update(schemas["inputs"], schemas["outputs"])
    return cache_path()
