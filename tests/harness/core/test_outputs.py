"""Output directories: every way one cannot be written is one HarnessError naming the path.

Tests run as root here, where chmod does not stop a write: a directory under a file is real, a
read-only file system and a directory without write permission are simulated (the errno the kernel
gives, or `os.access` saying no), and a real chmod case runs only for a user chmod can stop."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from harness.core.errors import HarnessError
from harness.core.outputs import LOCK_FILE, ensure_dir, lock_output


def _one_line(error: pytest.ExceptionInfo[HarnessError], *fragments: str) -> None:
    message = str(error.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_a_new_directory_is_made_with_its_parents_and_an_existing_one_is_kept(tmp_path: Path) -> None:
    assert ensure_dir(tmp_path / "a" / "b") == tmp_path / "a" / "b" and (tmp_path / "a" / "b").is_dir()
    (tmp_path / "a" / "b" / "kept.txt").write_text("x")
    ensure_dir(tmp_path / "a" / "b")
    assert (tmp_path / "a" / "b" / "kept.txt").read_text() == "x"


def test_a_file_where_the_directory_should_be(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text("{}")
    with pytest.raises(HarnessError) as error:
        ensure_dir(tmp_path / "results.json", "--output directory")
    _one_line(error, f"--output directory {tmp_path / 'results.json'} is a file, not a directory")


@pytest.mark.parametrize("below", ["x", "x/y/z"])
def test_a_directory_below_a_file_names_the_file(tmp_path: Path, below: str) -> None:
    (tmp_path / "afile").write_text("x")
    with pytest.raises(HarnessError) as error:
        ensure_dir(tmp_path / "afile" / below)
    _one_line(error, str(tmp_path / "afile" / below), f"{tmp_path / 'afile'} is a file")


def test_a_directory_below_a_system_file() -> None:
    if not Path("/proc/version").is_file():
        pytest.skip("no /proc/version here")
    with pytest.raises(HarnessError) as error:
        ensure_dir(Path("/proc/version/out"))
    _one_line(error, "/proc/version is a file")


def test_a_read_only_file_system_refuses_the_new_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulated: mkdir fails as it does on a read-only mount (EROFS), which stops root too."""
    def read_only(self: Path, *args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))

    monkeypatch.setattr(Path, "mkdir", read_only)
    with pytest.raises(HarnessError) as error:
        ensure_dir(tmp_path / "new")
    _one_line(error, str(tmp_path / "new"), "read-only file system")


def test_an_existing_directory_that_cannot_be_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulated: `os.access` says no (as for a read-only mount, or for a user without permission)."""
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if Path(path) == tmp_path / "ro" else real_access(path, mode))
    (tmp_path / "ro").mkdir()
    with pytest.raises(HarnessError) as error:
        ensure_dir(tmp_path / "ro")
    _one_line(error, str(tmp_path / "ro"), "not writable")


@pytest.mark.skipif(os.geteuid() == 0, reason="chmod does not stop root")
def test_a_directory_without_write_permission(tmp_path: Path) -> None:
    (tmp_path / "ro").mkdir(mode=0o500)
    try:
        with pytest.raises(HarnessError) as error:
            ensure_dir(tmp_path / "ro" / "out")
        _one_line(error, str(tmp_path / "ro" / "out"), "permission denied")
    finally:
        (tmp_path / "ro").chmod(0o700)


def test_the_lock_refuses_a_second_holder_and_frees_on_release(tmp_path: Path) -> None:
    first = lock_output(tmp_path / "out")
    with pytest.raises(HarnessError) as error:
        lock_output(tmp_path / "out")
    _one_line(error, f"{tmp_path / 'out'} is being written by another harness eval", LOCK_FILE)
    first.release()
    with lock_output(tmp_path / "out") as again:
        assert again.holds(tmp_path / "out") and not again.holds(tmp_path / "other")
    assert not again.holds(tmp_path / "out")


def test_the_lock_checks_the_directory_first(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    with pytest.raises(HarnessError) as error:
        lock_output(tmp_path / "afile")
    _one_line(error, "--output directory", "is a file")


def test_the_holder_record_names_the_holder_and_a_refused_process_leaves_it(tmp_path: Path) -> None:
    with lock_output(tmp_path / "out", "harness train"):
        assert (tmp_path / "out" / LOCK_FILE).read_text() == f"{os.getpid()} harness train\n"
        with pytest.raises(HarnessError) as error:
            lock_output(tmp_path / "out", "harness synth run", "--out")
        _one_line(error, f"another harness train (pid {os.getpid()})", "choose another --out")
        assert (tmp_path / "out" / LOCK_FILE).read_text() == f"{os.getpid()} harness train\n"  # not truncated
    assert (tmp_path / "out" / LOCK_FILE).exists()  # released, the file stays
    with lock_output(tmp_path / "out", "harness eval"):  # the next holder's record replaces the old one
        assert (tmp_path / "out" / LOCK_FILE).read_text() == f"{os.getpid()} harness eval\n"


def test_a_lock_taken_in_one_thread_is_released_from_another(tmp_path: Path) -> None:
    """`harness.api.prepare` may lock in one thread and `run` release in another: the lock is the process's."""
    import threading

    lock = lock_output(tmp_path / "out")
    thread = threading.Thread(target=lock.release)
    thread.start()
    thread.join(60)
    with lock_output(tmp_path / "out") as again:
        assert again.holds(tmp_path / "out")


@pytest.mark.parametrize("code", [errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS])
def test_a_file_system_without_locks_runs_unlocked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    """Simulated: flock fails as on a file system without locks. No soft marker is left to lock the directory for good."""
    import fcntl

    def no_locks(fd: int, operation: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(fcntl, "flock", no_locks)
    lock = lock_output(tmp_path / "out")
    assert not lock.holds(tmp_path / "out")
    lock.release()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) in ([], [LOCK_FILE])


def test_a_lock_file_that_cannot_be_opened_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulated: the lock file cannot be created (EROFS, as on a read-only mount that `os.access` missed)."""
    real_open = os.open

    def read_only(path: object, flags: int, *args: object) -> int:
        if str(path).endswith(LOCK_FILE):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", read_only)
    with pytest.raises(HarnessError) as error:
        lock_output(tmp_path / "out", "harness synth run", "--out")
    _one_line(error, f"--out directory {tmp_path / 'out'} is not writable", "read-only file system")
