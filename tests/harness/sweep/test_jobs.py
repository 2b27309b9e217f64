"""`--jobs` below 1 would run nothing: it is refused, in one line, before the sweep touches its directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.core.errors import HarnessError
from harness.sweep import run_sweep
from harness.sweep.config import read_sweep
from tests.clirun import run_cli

DEMO = Path(__file__).resolve().parents[3] / "sweeps" / "tiny-demo.yaml"


@pytest.mark.parametrize("jobs", [-1, 0, True, 1.5])
def test_run_sweep_refuses_jobs_below_one(jobs: object, tmp_path: Path) -> None:
    with pytest.raises(HarnessError, match=r"--jobs .*: must be a whole number >= 1"):
        run_sweep(read_sweep(DEMO), tmp_path / "sweep", jobs=jobs)  # type: ignore[arg-type]
    assert not (tmp_path / "sweep").exists()


@pytest.mark.parametrize("jobs", ["-1", "0"])
def test_the_command_line_refuses_jobs_below_one(jobs: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["sweep", str(DEMO), "--jobs", jobs, "--output", str(tmp_path / "sweep")], capfd)
    assert code == 2 and err.strip() == f"error: --jobs {jobs}: must be a whole number >= 1 (variants run at a time)"
    assert not (tmp_path / "sweep").exists()
