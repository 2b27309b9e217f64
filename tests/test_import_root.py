"""One import root: lc-harness runs from a research repo that has its own `tasks/`, `synth/` and `leaderboards/`
packages (and a module named `sweep.py`), and those never shadow the project's modules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _user_repo(root: Path) -> Path:
    for name in ("tasks", "synth", "leaderboards", "runner"):
        (root / name).mkdir()
        (root / name / "__init__.py").write_text("raise ImportError('the user\\'s own package was imported')\n")
    (root / "sweep.py").write_text("raise ImportError('the user\\'s own module was imported')\n")
    return root


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_the_cli_and_the_library_run_beside_the_users_own_tasks_folder(tmp_path: Path) -> None:
    repo = _user_repo(tmp_path)
    listing = _run(repo, "-m", "harness", "tasks", "niah_single_1")
    assert listing.returncode == 0, listing.stderr
    assert "niah_single_1" in listing.stdout
    code = ("from harness.runner import evaluate; from harness.tasks import GROUPS, get_task; "
            "from harness.synth.plugin import plugins; from harness.leaderboards.collect import collect; "
            "import harness.sweep; print(len(GROUPS['ruler'].tasks), sorted(plugins()))")
    imported = _run(repo, "-c", code)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith("13 ") and "wildlong" in imported.stdout
    # the user's own packages still import as theirs
    own = _run(repo, "-c", "import tasks")
    assert "the user's own package was imported" in own.stderr
