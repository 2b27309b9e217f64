"""`replicates: N` in a sweep: replicate 0 keeps today's stages (and cache), replicate k trains with
`train.seed + k` (and synthesizes with `synth.seed + k` under `replicate_synth`), every replicate is scored on
the same eval parameters, raising N runs only the new replicates, and sweep.json lists each replicate.
The fast tests swap the stage runners for fakes (no training); the slow one trains the tiny model."""

from __future__ import annotations

import json
import re
import sys
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.core.errors import HarnessError
from harness.sweep import label_stages, run_sweep
from harness.sweep.config import parse_sweep
from harness.sweep.preflight import check_train
from harness.sweep.stages import RUNNERS, plan_sweep, plan_variant
from tests.clirun import run_cli
from tests.harness.sweep.test_sweep import NEEDLES, SWEEP

DEMO = Path(__file__).resolve().parents[3] / "sweeps" / "tiny-demo.yaml"
# computed with the code before replicates existed: a sweep without them keeps every cached stage
BEFORE = {"control": ["eval-501770f8013b3059"],
          "needles": ["synth-c7734d9399fe90db", "train-ebe680a053166d0a", "eval-e9df5e1ff00e782f"],
          "broken": ["synth-3ef63c8aeb09675e", "train-91939af75e86b999", "eval-b8c12d96e73fa59a"]}
DEMO_BEFORE = {"control": ["eval-99e4ad1b62ccfd21"],
               "needles-1k": ["synth-53725b99df23989a", "train-deaa80f7a61f3f13", "eval-628d4317c5ab4ab8"],
               "needles-2k": ["synth-3caf12423051f97f", "train-28d2493f1c254acc", "eval-86b735bf4188d690"]}


def _sweep(**top: Any) -> dict[str, Any]:
    return {**SWEEP, "variants": SWEEP["variants"][:2], **top}


def _ids(chains: dict[tuple[str, int], list[Any]]) -> dict[tuple[str, int], list[str]]:
    return {key: [s.id for s in stages] for key, stages in chains.items()}


@pytest.mark.parametrize(("top", "message"), [
    ({"replicates": 0}, r"^sweep.yaml: replicates = 0: expected a whole number >= 1"),
    ({"replicates": -2}, r"^sweep.yaml: replicates = -2: expected a whole number >= 1"),
    ({"replicates": True}, r"^sweep.yaml: replicates = True: expected a whole number >= 1"),
    ({"replicates": 2.0}, r"^sweep.yaml: replicates = 2.0: expected a whole number >= 1"),
    ({"replicates": "3"}, r"^sweep.yaml: replicates = '3': expected a whole number >= 1"),
    ({"replicate_synth": "yes"}, r"^sweep.yaml: replicate_synth = 'yes': expected true or false"),
    ({"replicate": 3}, r"unknown field 'replicate'.*replicates"),
    ({"variants": [{"name": "n", "synth": {**NEEDLES, "seed": "1"}}]}, r"variants\[0\]\.synth\.seed: expected an integer, got '1'"),
])
def test_bad_replicate_settings_name_the_file_the_field_and_the_value(top: dict[str, Any], message: str) -> None:
    with pytest.raises(HarnessError, match=message):
        parse_sweep(_sweep(**top), "sweep.yaml")


def test_defaults_are_one_replicate_and_a_shared_synthesis() -> None:
    config = parse_sweep(SWEEP, "sweep.yaml")
    assert config.replicates == 1 and config.replicate_synth is False
    assert parse_sweep(_sweep(replicates=4, replicate_synth=True), "sweep.yaml").replicates == 4


@pytest.mark.parametrize("top", [{}, {"replicates": 1}, {"replicates": 1, "replicate_synth": True},
                                 {"replicates": 3}, {"replicates": 3, "replicate_synth": True}])
def test_replicate_zero_keeps_the_stage_ids_of_a_sweep_without_replicates(top: dict[str, Any]) -> None:
    config = parse_sweep({**SWEEP, **top}, "sweep.yaml")
    chains = plan_sweep(config, list(config.variants))
    assert {name: ids for (name, k), ids in _ids(chains).items() if k == 0} == BEFORE
    demo = parse_sweep({**yaml.safe_load(DEMO.read_text()), **top}, str(DEMO))
    assert {v.name: [s.id for s in plan_variant(demo, v)] for v in demo.variants} == DEMO_BEFORE


def test_labels_of_a_sweep_without_replicates_are_unchanged() -> None:
    config = parse_sweep(SWEEP, "sweep.yaml")
    labels = [s.label for stages in label_stages(plan_sweep(config, list(config.variants))).values() for s in stages]
    assert labels == ["stage 1 of 7: eval control", "stage 2 of 7: synth needles", "stage 3 of 7: train needles",
                      "stage 4 of 7: eval needles", "stage 5 of 7: synth broken", "stage 6 of 7: train broken",
                      "stage 7 of 7: eval broken"]


def test_replicates_differ_by_the_train_seed_and_share_the_synthesis_and_the_eval() -> None:
    config = parse_sweep(_sweep(replicates=3, train={**SWEEP["train"], "seed": 5}), "sweep.yaml")
    chains = plan_sweep(config, list(config.variants))
    assert list(chains) == [("control", 0), ("needles", 0), ("needles", 1), ("needles", 2)]  # replicate-major
    synths, trains, evals = zip(*(chains["needles", k] for k in range(3)))
    assert len({s.id for s in synths}) == 1 and "seed" not in synths[0].params
    assert [t.params["seed"] for t in trains] == [5, 6, 7] and len({t.id for t in trains}) == 3
    assert all({**t.params, "seed": 5} == trains[0].params for t in trains)  # the seed is all that differs
    assert all(e.params == evals[0].params for e in evals) and [e.needs for e in evals] == [(t.id,) for t in trains]
    assert [config.seeds(config.variants[1], k) for k in range(3)] == [(5, 0), (6, 0), (7, 0)]
    assert config.seeds(config.variants[0], 0) == (None, None)


def test_replicate_synth_gives_each_replicate_its_own_synthesis() -> None:
    config = parse_sweep(_sweep(replicates=3, replicate_synth=True,
                                variants=[{"name": "needles", "synth": {**NEEDLES, "seed": 10}}]), "sweep.yaml")
    chains = plan_sweep(config, list(config.variants))
    synths = [chains["needles", k][0] for k in range(3)]
    assert [s.params["seed"] for s in synths] == [10, 11, 12] and len({s.id for s in synths}) == 3
    assert [chains["needles", k][1].needs for k in range(3)] == [(s.id,) for s in synths]
    assert [chains["needles", k][1].params.get("seed") for k in range(3)] == [None, 1, 2]
    assert [config.seeds(config.variants[0], k) for k in range(3)] == [(0, 10), (1, 11), (2, 12)]


def test_labels_name_the_replicate_of_stages_that_are_its_own() -> None:
    config = parse_sweep(_sweep(replicates=3), "sweep.yaml")
    chains = label_stages(plan_sweep(config, list(config.variants)))
    assert [s.label for s in chains["control", 0]] == ["stage 1 of 8: eval control"]
    assert [s.label for s in chains["needles", 0]] == [
        "stage 2 of 8: synth needles", "stage 3 of 8: train needles (replicate 1 of 3)", "stage 4 of 8: eval needles (replicate 1 of 3)"]
    assert [s.label for s in chains["needles", 1]][1:] == [
        "stage 5 of 8: train needles (replicate 2 of 3)", "stage 6 of 8: eval needles (replicate 2 of 3)"]
    assert chains["needles", 2][2].label == "stage 8 of 8: eval needles (replicate 3 of 3)"


def test_every_replicate_seed_must_be_one_numpy_takes() -> None:
    config = parse_sweep(_sweep(replicates=3, train={**SWEEP["train"], "seed": 2**32 - 2}), "sweep.yaml")
    with pytest.raises(HarnessError, match=r"^sweep.yaml: train.seed = 4294967294 \(with replicates: 3, seeds "
                                           r"4294967294..4294967296\): training seeds must lie in 0..4294967295"):
        check_train(config)
    check_train(parse_sweep(_sweep(replicates=2, train={**SWEEP["train"], "seed": 2**32 - 3}), "sweep.yaml"))


# -- running, with fake stage runners ------------------------------------------------------------

@pytest.fixture
def fake_runners(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Stage runners that train nothing: each call is logged as (kind, seed); a train seed in `FAIL` fails."""
    calls: list[tuple[str, Any]] = []

    def synth(params: dict[str, Any], needs: list[Path], out: Path) -> dict[str, Any]:
        calls.append(("synth", params.get("seed")))
        return {"data": str(out / "data.jsonl"), "records": 1, "llm_calls": 0}

    def train(params: dict[str, Any], needs: list[Path], out: Path) -> dict[str, Any]:
        calls.append(("train", params.get("seed")))
        if params.get("seed") in FAIL:
            raise RuntimeError(f"planted failure at seed {params.get('seed')}")
        return {"model": str(out / "model")}

    def evaluate(params: dict[str, Any], needs: list[Path], out: Path) -> dict[str, Any]:
        calls.append(("eval", needs[0].name if needs else None))
        return {"results": str(out / "results.json"), "run_id": out.name, "model": "m"}

    for kind, runner in (("synth", synth), ("train", train), ("eval", evaluate)):
        monkeypatch.setitem(RUNNERS, kind, runner)
    monkeypatch.setattr("harness.sweep.check_sweep", lambda config, variants: calls.append(("preflight", len(variants))))
    return calls


FAIL: set[int] = set()


def test_raising_replicates_runs_only_the_new_ones(fake_runners: list[tuple[str, Any]], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "sweep"
    first = run_sweep(parse_sweep(_sweep(replicates=2), "sweep.yaml"), root)
    assert fake_runners[0] == ("preflight", 2)  # the whole sweep checked before the first stage
    assert [c for c in fake_runners[1:] if c[0] != "eval"] == [("synth", None), ("train", None), ("train", 1)]
    assert first["stages_run"] == 6 and first["replicates"] == 2
    assert "train needles (replicate 2 of 2)" in capsys.readouterr().out
    fake_runners.clear()
    more = run_sweep(parse_sweep(_sweep(replicates=3), "sweep.yaml"), root)
    assert [c for c in fake_runners if c[0] != "eval"] == [("preflight", 2), ("train", 2)]
    assert len([c for c in fake_runners if c[0] == "eval"]) == 1 and more["stages_run"] == 2
    needles = more["variants"]["needles"]
    assert [r["seed"] for r in needles["replicates"]] == [0, 1, 2]
    assert [all(s["cached"] for s in r["stages"]) for r in needles["replicates"]] == [True, True, False]
    fake_runners.clear()
    assert run_sweep(parse_sweep(_sweep(replicates=3), "sweep.yaml"), root)["stages_run"] == 0
    assert fake_runners == [("preflight", 2)]


def test_replicate_synth_runs_a_synthesis_per_new_replicate(fake_runners: list[tuple[str, Any]], tmp_path: Path) -> None:
    root = tmp_path / "sweep"
    run_sweep(parse_sweep(_sweep(), "sweep.yaml"), root)
    fake_runners.clear()
    summary = run_sweep(parse_sweep(_sweep(replicates=2, replicate_synth=True), "sweep.yaml"), root)
    assert [c for c in fake_runners if c[0] != "eval"] == [("preflight", 2), ("synth", 1), ("train", 1)]
    assert [(r["seed"], r["synth_seed"]) for r in summary["variants"]["needles"]["replicates"]] == [(0, 0), (1, 1)]


def test_sweep_json_lists_each_replicate_and_keeps_replicate_zero_on_top(fake_runners: list[tuple[str, Any]],
                                                                        tmp_path: Path) -> None:
    summary = run_sweep(parse_sweep(_sweep(replicates=2), "sweep.yaml"), tmp_path / "sweep")
    assert json.loads((tmp_path / "sweep" / "sweep.json").read_text()) == summary
    assert summary["version"] == 1 and summary["replicates"] == 2
    control, needles = summary["variants"]["control"], summary["variants"]["needles"]
    assert control["status"] == "done" and len(control["replicates"]) == 1
    assert control["replicates"][0] | {"stages": None} == {"replicate": 0, "seed": None, "synth_seed": None, "status": "done",
                                                           "error": None, "stages": None, "results": control["results"]}
    assert needles["status"] == "done" and needles["error"] is None
    first, second = needles["replicates"]
    assert (first["replicate"], first["seed"], first["synth_seed"], second["seed"]) == (0, 0, 0, 1)
    assert needles["stages"] == first["stages"] and needles["results"] == first["results"] != second["results"]
    assert [s["id"] for s in first["stages"]] == BEFORE["needles"]
    assert first["stages"][0] == {**second["stages"][0], "cached": False} and second["stages"][0]["cached"]
    assert set(first["stages"][1]) == {"id", "kind", "label", "status", "cached", "seconds", "error", "output"}


def test_a_variant_with_some_replicates_failed_is_partial(fake_runners: list[tuple[str, Any]], tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "FAIL", {1})
    summary = run_sweep(parse_sweep(_sweep(replicates=3), "sweep.yaml"), tmp_path / "sweep")
    needles = summary["variants"]["needles"]
    assert needles["status"] == "partial" and [r["status"] for r in needles["replicates"]] == ["done", "failed", "done"]
    assert needles["results"] == needles["replicates"][0]["results"] is not None
    assert needles["error"].startswith("replicate 2: train-") and "planted failure at seed 1" in needles["error"]
    assert needles["replicates"][1]["results"] is None
    assert [s["status"] for s in needles["replicates"][1]["stages"]] == ["done", "failed", "not run"]
    monkeypatch.setattr(sys.modules[__name__], "FAIL", {None, 1, 2})  # replicate 0 has no seed parameter
    failed = run_sweep(parse_sweep(_sweep(replicates=3), "sweep.yaml"), tmp_path / "all")["variants"]["needles"]
    assert failed["status"] == "failed" and failed["results"] is None and "planted failure" in failed["error"]
    assert not failed["error"].startswith("replicate")  # replicate 0's own error, as before replicates


def test_only_selects_variants_with_all_their_replicates(fake_runners: list[tuple[str, Any]], tmp_path: Path) -> None:
    summary = run_sweep(parse_sweep(_sweep(replicates=2), "sweep.yaml"), tmp_path / "sweep", only=["needles"])
    assert list(summary["variants"]) == ["needles"] and len(summary["variants"]["needles"]["replicates"]) == 2
    assert [c[1] for c in fake_runners if c[0] == "train"] == [None, 1]


# -- on the tiny model ------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize(("executor", "jobs"), [("local", 2), pytest.param("ray", 1, marks=pytest.mark.skipif(
    find_spec("ray") is None, reason="needs Ray (pip install -e '.[dev]' installs it)"))])
def test_replicates_train_different_models_on_one_synthesis(executor: str, jobs: int, tiny_path: Path, tmp_path: Path) -> None:
    """In a process pool and on Ray: the shared synthesis runs once, each replicate trains its own model."""
    config = parse_sweep({**SWEEP, "variants": [SWEEP["variants"][1]], "replicates": 2,
                          "train": {**SWEEP["train"], "stages": "256:2"}}, "sweep.yaml")
    summary = run_sweep(config, tmp_path / executor, executor=executor, jobs=jobs)
    needles = summary["variants"]["needles"]
    assert needles["status"] == "done" and summary["stages_run"] == 5  # one synthesis, two trainings, two evals
    models = [Path(r["stages"][1]["output"]["model"]) / "model.safetensors" for r in needles["replicates"]]
    assert models[0].read_bytes() != models[1].read_bytes()
    ids = [[row["id"] for row in _samples(Path(r["results"]))] for r in needles["replicates"]]
    assert ids[0] == ids[1] and ids[0]  # both replicates scored on the same samples


def _samples(results: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (results.parent / "samples" / "niah_single_1.jsonl").read_text().splitlines()]


def test_the_command_counts_every_replicates_stages_once(fake_runners: list[tuple[str, Any]], tmp_path: Path,
                                                          capfd: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(_sweep(replicates=3)))
    code, out, _ = run_cli(["sweep", str(tmp_path / "sweep.yaml"), "--output", str(tmp_path / "sweep")], capfd)
    assert code == 0 and re.search(r"needles\s+done\s+7\s+0\s*$", out, re.M)  # one synthesis, 3 trainings, 3 evals
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(_sweep(replicates=4)))
    code, out, _ = run_cli(["sweep", str(tmp_path / "sweep.yaml"), "--output", str(tmp_path / "sweep")], capfd)
    assert code == 0 and re.search(r"needles\s+done\s+2\s+7\s*$", out, re.M) and "2 stages run" in out
