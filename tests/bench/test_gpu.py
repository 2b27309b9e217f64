"""bench/gpu.py at tiny sizes on CPU (so it cannot rot), its OOM and time-budget handling, and the real 1b preset
on a CUDA GPU (marker `gpu`)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from bench import gpu

TINY = ["--preset", "tiny", "--device", "cpu", "--lengths", "32,64", "--train-lengths", "64", "--new-tokens", "4",
        "--train-examples", "6"]
CELLS = {("inference", "sdpa prefill", 32), ("inference", "sdpa decode", 32), ("inference", "sdpa prefill", 64),
         ("inference", "sdpa decode", 64), ("train", "packed", 64), ("train", "padded x2", 64)}


def table_rows(text: str) -> dict[tuple[str, str, str], list[str]]:
    rows = [[part.strip() for part in line.strip("|").split("|")] for line in text.splitlines() if line.startswith("| ")]
    return {(r[0], r[1], r[2]): r[3:] for r in rows[1:]}  # rows[0]: the header


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str, Path]:
    out = tmp_path_factory.mktemp("gpu") / "gpu.json"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        result = gpu.main([*TINY, "--json", str(out)])
    return result, printed.getvalue(), out


@pytest.mark.slow
def test_tiny_run_measures_every_cell_through_the_backend_and_trainer(tiny_run: tuple[dict[str, Any], str, Path]) -> None:
    result, table, out = tiny_run
    cells = result["cells"]
    assert {(c["part"], c["setting"], c["length"]) for c in cells} == CELLS
    assert all(c["status"] == "ok" and c["value"] > 0 for c in cells), cells
    assert all(c["peak_gib"] is None for c in cells)  # no CUDA: no peak memory
    rows = table_rows(table)
    assert set(rows) == {(p, s, str(n)) for p, s, n in CELLS}
    assert all(row[0].replace(",", "").isdigit() for row in rows.values())
    assert json.loads(out.read_text())["cells"] == cells
    padded = next(c for c in cells if c["setting"] == "padded x2")
    assert "real-token share" in padded["detail"] and "100.0%" not in padded["detail"]  # padding wastes slots


def test_tokenizer_makes_prompts_of_exact_length() -> None:
    tokenizer = gpu.build_tokenizer(100)
    text = gpu.prompt_text(57, 100, seed=3)
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert len(ids) == 57 and 0 not in ids and max(ids) < 100
    assert text == gpu.prompt_text(57, 100, seed=3)


def test_out_of_memory_in_a_cell_is_reported_and_the_run_goes_on(monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    real_generate = gpu.generate_seconds

    def generate(backend: Any, text: str, new_tokens: int) -> float:
        if len(text.split()) == 64:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return real_generate(backend, text, new_tokens)

    def train(path: Path, length: int, packing: bool, *args: Any) -> tuple[float, str]:
        if packing:
            raise RuntimeError("CUDA error: out of memory")
        return 123.0, "fake"

    monkeypatch.setattr(gpu, "generate_seconds", generate)
    monkeypatch.setattr(gpu, "train_tokens_per_second", train)
    result = gpu.main(TINY)
    status = {(c["part"], c["setting"], c["length"]): c["status"] for c in result["cells"]}
    assert status == {("inference", "sdpa prefill", 32): "ok", ("inference", "sdpa decode", 32): "ok",
                      ("inference", "sdpa prefill", 64): "OOM", ("inference", "sdpa decode", 64): "OOM",
                      ("train", "packed", 64): "OOM", ("train", "padded x2", 64): "ok"}
    rows = table_rows(capsys.readouterr().out)
    assert rows[("inference", "sdpa prefill", "64")][0] == "OOM" and rows[("train", "packed", "64")][0] == "OOM"
    assert rows[("train", "padded x2", "64")][0] == "123"


def test_other_errors_are_reported_with_their_type(monkeypatch: pytest.MonkeyPatch) -> None:
    def train(*args: Any) -> tuple[float, str]:
        raise ValueError("bad shape")

    monkeypatch.setattr(gpu, "train_tokens_per_second", train)
    cell = gpu.run_cell(gpu.Cell("train", "packed", 64), gpu.Clock(60), lambda: train())
    assert cell.status == "error: ValueError: bad shape"


def test_cells_past_the_budget_are_skipped(capsys: pytest.CaptureFixture[str]) -> None:
    result = gpu.main([*TINY, "--budget-s", "0"])
    assert {(c["part"], c["setting"], c["length"]) for c in result["cells"]} == CELLS
    assert {c["status"] for c in result["cells"]} == {"skipped (time)"}
    assert all(row[0] == "skipped (time)" for row in table_rows(capsys.readouterr().out).values())


def test_lengths_and_presets() -> None:
    assert gpu.parse_lengths("8k,32k,128k") == [8192, 32768, 131072]
    assert gpu.length_name(131072) == "128k" and gpu.length_name(64) == "64"
    one_b = gpu.PRESETS["1b"]
    assert (one_b["hidden_size"], one_b["num_hidden_layers"], one_b["vocab_size"]) == (2048, 16, 128256)
    assert gpu.attentions("cpu") == ["sdpa"]


@pytest.mark.gpu
@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA GPU")
def test_1b_preset_on_the_gpu_within_eight_minutes(tmp_path: Path) -> None:
    result = gpu.main(["--preset", "1b", "--json", str(tmp_path / "gpu.json")])
    assert result["elapsed_s"] < 480
    cells = result["cells"]
    assert {c["length"] for c in cells if c["part"] == "inference"} == {8192, 32768, 131072}
    assert all(c["status"] in ("ok", "OOM") for c in cells), cells
    assert next(c for c in cells if c["setting"] == "sdpa prefill" and c["length"] == 8192)["status"] == "ok"
    assert all(c["peak_gib"] is not None and c["peak_gib"] > 2 for c in cells if c["status"] == "ok")  # 1.2B bf16 weights
