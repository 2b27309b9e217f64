"""`harness noise`: K ordinary runs under evaluation seeds seed..seed+K-1, and per cell the SD across them.

The model is a scripted backend (tests.fakes) behind the real command line: it answers a niah sample right
when a hash of its prompt is even, so each seed's draw of samples gets its own score."""

from __future__ import annotations

import hashlib
import inspect
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from harness.core.errors import HarnessError
from harness.core.records import NOISE, NoiseRecord, RecordVersionError
from harness.core.records.noise import NOISE as NOISE_SCHEMA
from harness.noise import default_output, eval_seeds
from tests.clirun import run_cli
from tests.fakes import ScriptedBackend, echo_needle

TASK = "niah_single_1"


class Loads:
    """Stands in for `harness.core.backends.load_backend`: every model it loads is a scripted one, and it
    keeps the generation requests they all received."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.loaded = 0
        self.requests: list[Any] = []

    def __call__(self, spec: str, **kwargs: Any) -> ScriptedBackend:
        self.loaded += 1
        backend = ScriptedBackend(self.tokenizer, answer=self.half_right)
        backend.requests = self.requests
        return backend

    @staticmethod
    def half_right(request: Any) -> str:
        even = hashlib.sha256(request.text.encode()).digest()[0] % 2 == 0
        return echo_needle(request) if even else " no idea."


@pytest.fixture
def loads(tokenizer: Any, monkeypatch: pytest.MonkeyPatch) -> Loads:
    import harness.core.backends as backends

    fake = Loads(tokenizer)
    monkeypatch.setattr(backends, "load_backend", fake)
    return fake


def _noise(out: Path, seeds: int, *extra: str) -> list[str]:
    return ["noise", "--model", "tiny-random", "--tasks", TASK, "--lengths", "256,512", "--limit", "6",
            "--eval-seeds", str(seeds), "--output", str(out), *extra]


def _lines(out: Path) -> dict[str, int]:
    return {str(p.relative_to(out)): len(p.read_text().splitlines()) for p in sorted(out.glob("seed-*/samples/*.jsonl"))}


def test_three_seeds_give_three_runs_and_the_sd_across_them(loads: Loads, tmp_path: Path,
                                                            capfd: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "noise"
    code, stdout, stderr = run_cli(_noise(out, 3, "--seed", "7"), capfd)
    assert code == 0, stderr
    assert sorted(p.name for p in out.iterdir()) == ["noise.json", "seed-7", "seed-8", "seed-9"]
    ids = [{json.loads(line)["id"] for line in (out / f"seed-{s}" / "samples" / f"{TASK}.jsonl").read_text().splitlines()}
           for s in (7, 8, 9)]
    assert all(len(i) == 12 for i in ids) and not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])  # new draws

    record = NoiseRecord.read(out / "noise.json")
    assert (record.model, record.tasks, record.lengths, record.seeds, record.limit) == ("tiny-random", [TASK], [256, 512], [7, 8, 9], 6)
    written = json.loads((out / "noise.json").read_text())
    assert written["version"] == NOISE.version == 1
    tasks = [c for c in record.cells if c["kind"] == "task"]
    assert [(c["task"], c["length"]) for c in tasks] == [(TASK, 256), (TASK, 512)]
    spread = []
    for cell in tasks:
        results = [json.loads((out / f"seed-{s}" / "results.json").read_text())["results"][TASK][str(cell["length"])]
                   for s in (7, 8, 9)]
        scores = [r["score"] for r in results]
        assert cell["scores"] == scores and cell["n"] == [6, 6, 6]
        assert cell["mean"] == pytest.approx(np.mean(scores), abs=1e-4)
        assert cell["sd_eval"] == pytest.approx(np.std(scores, ddof=1), abs=1e-4)
        se = math.sqrt(2) * np.std(scores, ddof=1)
        assert cell["mde"] == pytest.approx((stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * se, abs=1e-3)
        per_seed = [[json.loads(line)["score"] for line in (out / f"seed-{s}" / "samples" / f"{TASK}.jsonl").read_text().splitlines()
                     if json.loads(line)["length"] == cell["length"]] for s in (7, 8, 9)]
        pooled = math.sqrt(np.mean([np.var(v, ddof=1) for v in per_seed]))
        assert cell["sd_sample"] == pytest.approx(pooled, abs=1e-4)
        assert cell["se_sample"] == pytest.approx(pooled / math.sqrt(6), abs=1e-4)
        spread.append(cell["sd_eval"])
    assert max(spread) > 0  # the scripted model's score does move with the draw

    groups = [c for c in record.cells if c["kind"] == "group"]
    assert [(c["task"], c["length"]) for c in groups] == [("ruler", 256), ("ruler", 512), ("ruler", None)]
    avg = [json.loads((out / f"seed-{s}" / "results.json").read_text())["groups"]["ruler"]["avg"] for s in (7, 8, 9)]
    assert groups[-1]["scores"] == avg and groups[-1]["sd_eval"] == pytest.approx(np.std(avg, ddof=1), abs=1e-4)

    assert "eval-seed SD" in stdout and f"{tasks[0]['sd_eval']:.2f}" in stdout and "group ruler (1/13)" in stdout
    assert stderr.count("samples computed") == 3 and loads.loaded == 3


def test_a_rerun_computes_nothing(loads: Loads, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "noise"
    code, _, stderr = run_cli(_noise(out, 2), capfd)
    assert code == 0, stderr
    before, first = _lines(out), (out / "noise.json").read_text()
    asked = len(loads.requests)
    assert asked == 24 and sum(before.values()) == 24
    code, _, stderr = run_cli(_noise(out, 2), capfd)
    assert code == 0, stderr
    assert _lines(out) == before and len(loads.requests) == asked  # no new sample line, no request
    assert stderr.count("0 samples computed, 12 reused") == 2
    assert (out / "noise.json").read_text() == first
    # one more seed runs only that seed's samples
    code, _, stderr = run_cli(_noise(out, 3), capfd)
    assert code == 0, stderr
    assert len(loads.requests) == asked + 12 and sum(_lines(out).values()) == 36
    assert NoiseRecord.read(out / "noise.json").seeds == [42, 43, 44]


@pytest.mark.parametrize(("args", "message"), [
    (["--eval-seeds", "1"], "bad --eval-seeds 1: expected a whole number >= 2"),
    (["--eval-seeds", "0"], "bad --eval-seeds 0"),
    (["--eval-seeds", "-3"], "bad --eval-seeds -3"),
    (["--alpha", "1.5"], "bad --alpha 1.5: must be in (0, 1)"),
    (["--lengths", "4q"], "bad length '4q'"),
    (["--limit", "many"], "bad --limit"),
    (["--model-args", "dtype"], "malformed --model-args entry 'dtype'"),
    (["--tasks", "niah_singel_1"], "unknown task or group 'niah_singel_1'"),
])
def test_bad_input_is_one_line_naming_the_option(loads: Loads, tmp_path: Path, capfd: pytest.CaptureFixture[str],
                                                 args: list[str], message: str) -> None:
    out = tmp_path / "noise"
    argv = ["noise", "--model", "tiny-random", "--tasks", TASK, "--lengths", "256", "--limit", "2", "--output", str(out)]
    for flag, value in zip(args[::2], args[1::2]):  # replace a flag given above, or add it
        argv = argv[:argv.index(flag) + 1] + [value] + argv[argv.index(flag) + 2:] if flag in argv else [*argv, flag, value]
    code, _, stderr = run_cli(argv, capfd)
    assert code == 2 and message in stderr, stderr
    assert stderr.startswith("error: ") and "Traceback" not in stderr
    assert loads.loaded == 0 and not out.exists()  # refused before a model loads or a directory is made


def test_eval_seeds_and_the_default_output() -> None:
    assert eval_seeds(42, 3) == [42, 43, 44]
    with pytest.raises(HarnessError, match="bad --eval-seeds True"):
        eval_seeds(0, True)
    assert default_output("tiny-random", "ruler", "4k,8k") == Path("runs/noise/tiny-random-ruler-4k_8k")
    assert default_output("./ckpt/step 5", ["niah_single_1", "qa_1"], [4096]).parent == Path("runs/noise")


def test_the_record_reads_back_and_refuses_a_newer_version(tmp_path: Path) -> None:
    record = NoiseRecord("m", ["t"], [256], [1, 2], [{"kind": "task", "task": "t", "length": 256, "scores": [1.0, 2.0]}],
                         limit=4, extra={"note": "kept"})
    record.write(tmp_path / "noise.json")
    assert NoiseRecord.read(tmp_path / "noise.json") == record
    newer = {**json.loads((tmp_path / "noise.json").read_text()), "version": NOISE_SCHEMA.version + 1}
    (tmp_path / "noise.json").write_text(json.dumps(newer))
    with pytest.raises(RecordVersionError, match="a noise floor of version 2, written by a newer lc-harness"):
        NoiseRecord.read(tmp_path / "noise.json")


def test_the_noise_options_are_eval_options() -> None:
    """`harness noise` takes `harness eval`'s options (the same flags build the same EvalConfig) plus its own two."""
    from harness.cli import eval_command, noise_command

    own = set(inspect.signature(noise_command).parameters) - set(inspect.signature(eval_command).parameters)
    assert own == {"eval_seeds", "alpha"}


def test_the_mde_never_claims_a_spread_it_did_not_see() -> None:
    from harness.core.stats.power import mde_normal
    from harness.noise import _row

    cells = [{"score": 15.0, "n": 20}, {"score": 15.0, "n": 20}]  # two draws that happen to agree
    per_sample = [[100.0] * 3 + [0.0] * 17, [100.0] * 3 + [0.0] * 17]
    row = _row("task", "t", 1024, cells, per_sample, 0.05)
    assert row["sd_eval"] == 0 and row["se_sample"] > 0
    assert row["mde"] == pytest.approx(round(mde_normal(math.sqrt(2) * row["se_sample"], 0.05), 4), abs=1e-3)
    zeros = _row("task", "t", 1024, [{"score": 0.0, "n": 20}] * 2, [[0.0] * 20] * 2, 0.05)
    assert zeros["mde"] is None  # no spread at all: no MDE, rather than a claim of 0
