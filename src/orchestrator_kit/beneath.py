"""Open a path beneath a directory descriptor, never leaving it, even while the tree changes under us.

`realpath` then `open` is a race: between the check and the open, a directory on the path can be swapped for a
symlink to anywhere. Here every lookup is relative to an open directory descriptor, so what was checked is what
is opened:

* **openat2 with RESOLVE_BENEATH** (Linux 5.6+, through `ctypes`): the kernel resolves the whole path and fails
  with EXDEV if any step (a `..`, an absolute symlink, a symlink whose target leaves) would leave the directory;
  RESOLVE_NO_MAGICLINKS refuses `/proc` style links.
* **elsewhere** (`_walk`): the same rule, one component at a time: each directory is opened with
  `O_NOFOLLOW | O_DIRECTORY` relative to the previous descriptor; a symlink met on the way is read with
  `readlinkat` and its (relative) target spliced into the rest of the path; `..` pops a descriptor and may never
  pop the starting one; an absolute target fails; at most 40 links (ELOOP, like the kernel).

Symlinks that stay inside are followed (a repository may link one of its files to another); a link that leaves
fails with `OSError(EXDEV)`, which callers report without naming the link's target.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import threading

RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_BENEATH = 0x08
MAX_LINKS = 40
_SYSCALL_OPENAT2 = {"x86_64": 437, "aarch64": 437, "arm64": 437, "riscv64": 437, "ppc64le": 437, "s390x": 437}

# None: not probed; False: unavailable (ENOSYS, not Linux); True: works.
_state: dict[str, bool | None] = {"openat2": None}
_lock = threading.Lock()
_libc: ctypes.CDLL | None = None
_syscall_number = 437  # openat2's, for this machine (set when probed)


class _OpenHow(ctypes.Structure):
    _fields_ = (("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64))


# One `open_how` per set of flags, built once: the kernel only reads it (copies it in), so threads may share it.
# A scan opens every file with the same flags; building the structure, and looking up the machine and libc,
# for each file cost as much as the open itself.
_hows: dict[int, _OpenHow] = {}
_HOW_SIZE = ctypes.sizeof(_OpenHow)


def use_openat2(enabled: bool | None) -> None:
    """Force the kernel path on or off (None: probe again). Tests use it to check both ways."""
    _state["openat2"] = enabled


def open_beneath(dir_fd: int, rel: str, flags: int) -> int:
    """A descriptor for `rel` (relative, `/`-separated) under `dir_fd`, opened with `flags` (O_CLOEXEC added).
    Raises OSError: EXDEV when the path would leave `dir_fd`, ELOOP for a link loop, and the usual ones."""
    flags |= os.O_CLOEXEC
    state = _state["openat2"]
    if state is True or (state is None and _openat2_usable()):  # known to work: no lock to take
        for _ in range(8):  # EAGAIN: the kernel saw a concurrent rename and could not vouch for `..`; retry
            try:
                return _openat2(dir_fd, rel, flags)
            except OSError as exc:
                if exc.errno != errno.EAGAIN:
                    raise
        raise OSError(errno.EAGAIN, "the path kept changing while it was opened")
    return _walk(dir_fd, rel, flags)


def _openat2_usable() -> bool:
    global _libc, _syscall_number
    with _lock:
        if _state["openat2"] is None:
            number = _SYSCALL_OPENAT2.get(platform.machine())
            if platform.system() != "Linux" or number is None:
                _state["openat2"] = False
            else:
                try:
                    _syscall_number = number
                    _libc = ctypes.CDLL(None, use_errno=True)
                    fd = _openat2(os.open("/", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC), ".",
                                  os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, close_dir=True)
                    os.close(fd)
                    _state["openat2"] = True
                except (OSError, AttributeError):  # ENOSYS (old kernel), EPERM (seccomp), no libc
                    _state["openat2"] = False
        return bool(_state["openat2"])


def _openat2(dir_fd: int, rel: str, flags: int, *, close_dir: bool = False) -> int:
    how = _hows.get(flags)
    if how is None:
        how = _hows[flags] = _OpenHow(flags=flags, mode=0, resolve=RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)
    libc = _libc or ctypes.CDLL(None, use_errno=True)
    try:
        fd = libc.syscall(_syscall_number, dir_fd, os.fsencode(rel), ctypes.byref(how), _HOW_SIZE)
        # ctypes keeps this thread's errno from the call until its next foreign call with use_errno: read it now.
        code = ctypes.get_errno() if fd < 0 else 0
    finally:
        if close_dir:
            os.close(dir_fd)
    if fd < 0:
        raise OSError(code, os.strerror(code), rel)
    return int(fd)


def _walk(dir_fd: int, rel: str, flags: int) -> int:
    """RESOLVE_BENEATH by hand (see the module docstring). Descriptors it opened are closed on every path out."""
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    stack: list[int] = []  # directories opened below dir_fd; dir_fd itself is never closed here
    links = 0
    try:
        while parts:
            name = parts.pop(0)
            current = stack[-1] if stack else dir_fd
            if name == "..":
                if not stack:
                    raise OSError(errno.EXDEV, "the path leaves the directory", rel)
                os.close(stack.pop())
                continue
            last = not parts
            try:
                opened = os.open(name, (flags if last else os.O_RDONLY | os.O_DIRECTORY) | os.O_NOFOLLOW
                                 | os.O_CLOEXEC, dir_fd=current)
            except OSError as exc:
                if exc.errno not in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                    raise
                try:
                    target = os.readlink(name, dir_fd=current)
                except OSError:
                    raise exc from None  # not a symlink: a real ENOTDIR
                links += 1
                if links > MAX_LINKS:
                    raise OSError(errno.ELOOP, "too many levels of symbolic links", rel) from None
                if target.startswith("/"):
                    raise OSError(errno.EXDEV, "a symlink on the path leaves the directory", rel) from None
                parts = [p for p in target.split("/") if p not in ("", ".")] + parts
                continue
            if last:
                return opened
            stack.append(opened)
        # The path named dir_fd itself (or a directory reached through links): hand out a new descriptor for it.
        return os.open(".", flags | os.O_CLOEXEC, dir_fd=stack[-1] if stack else dir_fd)
    finally:
        for fd in stack:
            os.close(fd)


def open_dir_nofollow(path: str) -> int:
    """A directory descriptor for an absolute, already-resolved `path`, opened component by component without
    following any symlink: if a component was swapped for a link since it was resolved, this fails (ELOOP)."""
    fd = os.open("/", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for name in [p for p in path.split("/") if p]:
            nxt = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            os.close(fd)
            fd = nxt
    except BaseException:
        os.close(fd)
        raise
    return fd
