"""Output directories a command writes: created with one clean error naming the path, and locked
for one writer at a time.

A path that is a file, lies under a file, sits on a read-only file system or in a directory the
user may not write becomes one `HarnessError` before any work starts. `lock_output` holds an
exclusive lock on `DIR/.lock` for a whole run, so a second process writing the same directory is
refused at once instead of appending duplicate lines (`harness eval`, `harness train`, `harness synth
run`; the refusal names the holder's command and pid, which it writes there); the operating system drops
the lock when the process ends, however it ends, so a crashed run never leaves the directory locked.

The lock itself is `filelock.UnixFileLock` (an `flock`, taken with timeout 0). What we keep of our own,
and why: the holder record (`PID COMMAND` written into the lock file through filelock's `on_acquired`
hook; filelock records a holder only for its soft marker locks), and no soft fallback: on a file system
without `flock` filelock would fall back to a marker file that a killed run leaves behind, locking the
directory for good, so there we run unlocked as before. The file stays after release (`preserve_lock_file`).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from filelock import Timeout, UnixFileLock

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

    def __init__(self, path: Path, lock: UnixFileLock | None) -> None:
        self.path = path
        self._lock = lock  # None: released, or a file system without locks

    def holds(self, path: Path) -> bool:
        """Whether this lock is held and covers `path`."""
        return self._lock is not None and self._lock.is_locked and Path(path).resolve() == self.path.resolve()

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()  # unlocks and closes the file; the file stays
            self._lock = None

    def __enter__(self) -> OutputLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


# On these `flock` errors the file system has no locks: run unlocked (filelock raises them as they come)
NO_LOCKS = frozenset({errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS})


def lock_output(path: Path, command: str = "harness eval", flag: str = "--output") -> OutputLock:
    """Create and check the output directory `path`, then lock it for this process, or refuse at once
    when another process holds it."""
    ensure_dir(path, f"{flag} directory")
    lock_file = path / LOCK_FILE
    lock = UnixFileLock(lock_file, timeout=0, thread_local=False, fallback_to_soft=False, preserve_lock_file=True,
                        on_acquired=lambda fd: _write_holder(fd, command))
    try:
        lock.acquire()
    except Timeout:
        raise HarnessError(f"{path} is being written by another {_holder(lock_file, command)} "
                           f"(it holds {lock_file}); wait for it to finish, or choose another {flag}") from None
    except OSError as error:
        if error.errno in NO_LOCKS:
            return OutputLock(path, None)
        if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise HarnessError(f"{flag} directory {path} is not writable: {_why(error)}") from None
        raise HarnessError(f"{flag} directory {path}: cannot lock {lock_file}: {_why(error)}") from None
    return OutputLock(path, lock)


def _write_holder(fd: int, command: str) -> None:
    """Say who holds the lock (`PID COMMAND`), for the message of a process refused meanwhile."""
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {command}\n".encode(), 0)
    except OSError:
        pass  # the lock holds without its record; a refused process then names only the command


def _holder(lock_file: Path, command: str) -> str:
    """`harness train (pid 123)`: what the holder wrote into the lock file; `command` when it wrote nothing readable."""
    try:
        pid, _, holder = lock_file.read_text(encoding="utf-8", errors="replace").strip().partition(" ")
    except OSError:
        return command
    return f"{holder} (pid {pid})" if pid.isdigit() and holder.startswith("harness") else command
