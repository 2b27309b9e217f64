"""One data folder with small files of the real published schemas for every task family of issue 16 (HELMET's
seven categories, LongBench v2, BABILong), written from the tests' own fixtures; the essays come from the shared
data. For the show runs (`harness eval --tasks helmet ... --data-dir D`) and the tests that run them.

    python -m tests.tasks.demo_data D [ESSAYS]      # ESSAYS: a pg_essays folder (default ../shared/data/pg_essays)
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from tests.tasks.babilong.fixtures import write_babilong
from tests.tasks.helmet.cite_fixtures import write_alce
from tests.tasks.helmet.fixtures import kilt_rows, write_json_kv, write_jsonl, write_kilt, write_msmarco
from tests.tasks.helmet.icl_fixtures import write_icl
from tests.tasks.helmet.longqa_fixtures import write_infbench, write_narrativeqa
from tests.tasks.helmet.test_summ import infbench_dir, lexsum_dir
from tests.tasks.longbench_v2.fixtures import write_data

SHARED_ESSAYS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "pg_essays"


def write_all(root: Path, essays: Path | None = SHARED_ESSAYS) -> Path:
    """`root` as a `--data-dir`: helmet/, infinitebench/, longbench_v2/, babilong/ and pg_essays (a link)."""
    root.mkdir(parents=True, exist_ok=True)
    write_json_kv(root)
    write_kilt(root)
    kilt = root / "helmet" / "kilt"
    write_jsonl(kilt / "triviaqa-dev-multikilt_1000_k1000_dep6.jsonl", kilt_rows(4, 60, seed=2))
    write_jsonl(kilt / "triviaqa-train-multikilt_1000_k3_dep6.jsonl", kilt_rows(8, 3, depths=(0.5,), seed=3, start=100))
    write_msmarco(root)
    write_alce(root)
    write_icl(root)
    write_narrativeqa(root)
    write_infbench(root)
    infbench_dir(root)
    lexsum_dir(root, n=3)
    write_data(root)
    write_babilong(root, {"0k": 0, "1k": 60, "2k": 130})
    if essays is not None and essays.is_dir() and not (root / "pg_essays").exists():
        (root / "pg_essays").symlink_to(essays.resolve())
    return root


if __name__ == "__main__":
    target = Path(sys.argv[1])
    if target.exists():
        shutil.rmtree(target)
    write_all(target, Path(sys.argv[2]) if len(sys.argv) > 2 else SHARED_ESSAYS)
    print(target)
