"""The key that authenticates the Writer's audit log, kept outside every repository.

An audit entry is only ever acted on (by `undo`) when its `mac` is HMAC-SHA256(key, canonical entry + repository
root), where the canonical entry is its JSON with sorted keys and without `mac`, and the root is the real path of the
repository it was written for. A log committed to a repository, copied from another repository or edited by hand
therefore verifies nowhere: nobody without the key can make an entry `undo` trusts.

The key is 32 random bytes in `audit.key` in the user's state folder: `$ORCHESTRATOR_KIT_STATE_DIR`, else
`$XDG_STATE_HOME/orchestrator-kit`, else `~/.local/state/orchestrator-kit`. It is created on first use (folder 0700,
file 0600, exclusively, so two processes starting at once agree on one key). Losing it only means that older entries
can no longer be undone automatically.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import json
import os
import secrets
import stat
import time
from pathlib import Path

from ..errors import InputError, sentence

STATE_ENV = "ORCHESTRATOR_KIT_STATE_DIR"
KEY_FILE = "audit.key"
KEY_BYTES = 32


def state_dir() -> Path:
    """$ORCHESTRATOR_KIT_STATE_DIR, else $XDG_STATE_HOME/orchestrator-kit, else ~/.local/state/orchestrator-kit."""
    if os.environ.get(STATE_ENV):
        return Path(os.environ[STATE_ENV])
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "orchestrator-kit"


def audit_key() -> bytes:
    """The audit key, created on first use. InputError when it cannot be read or made (nothing is then written)."""
    folder = state_dir()
    path = folder / KEY_FILE
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            for _ in range(100):  # another process may have created it a moment ago and be writing it
                key = _read_key(path)
                if key is not None:
                    return key
                time.sleep(0.01)
            raise InputError(f"The audit key {path} is not {KEY_BYTES} bytes long; delete it to make a new one "
                             "(entries signed with it can then no longer be undone).") from None
        try:
            os.write(fd, secrets.token_bytes(KEY_BYTES))
            os.fsync(fd)
        finally:
            os.close(fd)
        written = _read_key(path)
        if written is None:
            raise InputError(f"The audit key {path} could not be written whole; delete it and try again.")
        return written
    except OSError as exc:
        raise InputError(f"Cannot use the audit key {path}: {sentence(exc.strerror or str(exc))} "
                         f"Set {STATE_ENV} to a folder you can write.") from None


def _read_key(path: Path) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(f"The audit key {path} is a symlink; refusing to use it.") from None
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InputError(f"The audit key {path} is not a regular file.")
        key = os.read(fd, KEY_BYTES + 1)
    finally:
        os.close(fd)
    return key if len(key) == KEY_BYTES else None


def sign(entry: dict[str, object], root: str, key: bytes) -> str:
    """The entry's MAC (hex), over its canonical JSON without `mac` and the repository root."""
    body = {k: v for k, v in entry.items() if k != "mac"}
    message = json.dumps([root, body], sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def verified(entry: dict[str, object], root: str, key: bytes) -> bool:
    """Whether the entry carries the MAC this key gives it for this root (constant-time comparison)."""
    mac = entry.get("mac")
    return isinstance(mac, str) and hmac.compare_digest(mac, sign(entry, root, key))
