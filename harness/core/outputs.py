"""Output directories a command writes: created with one clean error naming the path, and locked
for one writer at a time.

A path that is a file, lies under a file, sits on a read-only file system or in a directory the
user may not write becomes one `HarnessError` before any work starts. `lock_output` holds an
exclusive `flock` on `DIR/.lock` for a whole run, so a second process writing the same directory is
refused at once instead of appending duplicate lines (`harness eval`, `harness train`, `harness synth
run`; the refusal names the holder's command and pid, which it writes there); the operating system drops
the lock when the process ends, however it ends, so a crashed run never leaves the directory locked.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path
from typing import IO, Any

from harness.core.errors import HarnessError

LOCK_FILE = ".lock"


def _file_above(path: Path) -> Path | None:
    """The nearest existing ancestor of `path` (or `path` itself) that is not a directory."""
    for candidate in [path, *path.parents]:
        if candidate.exists():
            return None if candidate.is_dir() else candidate
    return None


def _why(error: OSError) -> str:
    if error.errno == errno.EROFS:
        return "on a read-only file system"
    if error.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return error.strerror or str(error)


def ensure_dir(path: Path, what: str = "output directory") -> Path:
    """Create `path` (with its parents) unless it exists, and check it can be written; returns it."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = _file_above(path)
        if blocker == path:
            raise HarnessError(f"{what} {path} is a file, not a directory") from None
        raise HarnessError(f"{what} {path}: {blocker or 'a parent of it'} is a file, not a directory") from None
    except OSError as error:
        raise HarnessError(f"{what} {path} cannot be created: {_why(error)}") from None
    if not os.access(path, os.W_OK | os.X_OK):  # EROFS shows here even for root
        why = "on a read-only file system" if _read_only(path) else "permission denied"
        raise HarnessError(f"{what} {path} is not writable: {why}")
    return path


def _read_only(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


class OutputLock:
    """An exclusive lock on an output directory, held until `release` (or the process ends)."""

    def __init__(self, path: Path, handle: IO[Any] | None) -> None:
        self.path = path
        self._handle = handle

    def holds(self, path: Path) -> bool:
        """Whether this lock is held and covers `path`."""
        return self._handle is not None and Path(path).resolve() == self.path.resolve()

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the file drops the flock
            self._handle = None

    def __enter__(self) -> OutputLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock_output(path: Path, command: str = "harness eval", flag: str = "--output") -> OutputLock:
    """Create and check the output directory `path`, then lock it for this process, or refuse at once
    when another process holds it."""
    ensure_dir(path, f"{flag} directory")
    try:
        handle = open(path / LOCK_FILE, "a")  # noqa: SIM115 - held open for the lock's lifetime
    except OSError as error:
        raise HarnessError(f"{flag} directory {path} is not writable: {_why(error)}") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        handle.close()
        if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise HarnessError(f"{path} is being written by another {_holder(path / LOCK_FILE, command)} "
                               f"(it holds {path / LOCK_FILE}); wait for it to finish, or choose another {flag}") from None
        if error.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP):  # a file system without locks: run unlocked
            return OutputLock(path, None)
        raise HarnessError(f"{flag} directory {path}: cannot lock {path / LOCK_FILE}: {_why(error)}") from None
    try:  # say who holds it, for the message of a process refused meanwhile
        handle.truncate(0)
        handle.write(f"{os.getpid()} {command}\n")
        handle.flush()
    except OSError:
        pass
    return OutputLock(path, handle)


def _holder(lock_file: Path, command: str) -> str:
    """`harness train (pid 123)`: what the holder wrote into the lock file; `command` when it wrote nothing readable."""
    try:
        pid, _, holder = lock_file.read_text(encoding="utf-8", errors="replace").strip().partition(" ")
    except OSError:
        return command
    return f"{holder} (pid {pid})" if pid.isdigit() and holder.startswith("harness") else command
