"""Experiment tracking (issue 13, item 18): trainers report through transformers' integrations, `harness eval` and
`harness sweep` log results to W&B when asked; a tracker that is not installed fails before any work, naming the extra.

The W&B tests use a recording stand-in for the `wandb` module; the tests marked `needs_*` run the real packages
(the `tracking` extra) when they are installed: TensorBoard event files, and W&B in offline mode."""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.core.errors import HarnessError
from harness.tracking import check_wandb_args, parse_report_to, require_trackers
from tests.clirun import run_cli


def _missing(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Make `names` look uninstalled to harness.tracking (whatever this environment has)."""
    from importlib.util import find_spec

    monkeypatch.setattr("harness.tracking.find_spec", lambda name: None if name in names else find_spec(name))


def _harness(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code, out, err = run_cli(list(args), capsys)
    return code, out + err


class FakeWandb(types.ModuleType):
    """Records what `wandb.init`, `run.log`, `run.summary` and `run.finish` receive."""

    def __init__(self, fail: Exception | None = None) -> None:
        super().__init__("wandb")
        self.fail = fail
        self.inits: list[dict[str, Any]] = []
        self.logged: list[dict[str, Any]] = []
        self.summary: dict[str, Any] = {}
        self.finished = 0

    class Table:
        def __init__(self, columns: list[str], data: list[list[Any]]) -> None:
            self.columns, self.data = columns, data

    def init(self, **kwargs: Any) -> Any:
        if self.fail is not None:
            raise self.fail
        self.inits.append(kwargs)
        wandb = self

        class Run:
            summary = wandb.summary
            dir = "/fake/wandb/run"

            def log(self, data: dict[str, Any]) -> None:
                wandb.logged.append(data)

            def finish(self) -> None:
                wandb.finished += 1

        return Run()


@pytest.fixture()
def fake_wandb(monkeypatch: pytest.MonkeyPatch) -> FakeWandb:
    fake = FakeWandb()
    monkeypatch.setattr("harness.tracking.wandb_module", lambda: fake)  # not in sys.modules: transformers probes wandb too
    monkeypatch.setattr("harness.tracking.find_spec", lambda name: object())
    return fake


# -- arguments -------------------------------------------------------------------------------------


def test_report_to_names_and_wandb_args_are_checked() -> None:
    assert parse_report_to("none") == () and parse_report_to("TensorBoard,wandb") == ("tensorboard", "wandb")
    with pytest.raises(HarnessError, match="did you mean tensorboard"):
        parse_report_to("tensorbord")
    assert check_wandb_args(None) is None and check_wandb_args("") is None
    with pytest.raises(HarnessError, match="unknown key 'projekt'"):
        check_wandb_args("projekt=p")
    with pytest.raises(HarnessError, match="unknown key 'api_key'"):
        check_wandb_args({"project": "p", "api_key": "x"})


@pytest.mark.parametrize("name", ["tensorboard", "wandb", "mlflow"])
def test_a_missing_tracker_names_the_extra(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _missing(monkeypatch, name)
    with pytest.raises(HarnessError, match=r"lc-harness\[tracking\]"):
        require_trackers((name,))
    if name == "wandb":
        with pytest.raises(HarnessError, match=r"--wandb-args needs wandb: pip install 'lc-harness\[tracking\]'"):
            check_wandb_args("project=p")


def test_the_tracking_extra_exists() -> None:
    """The extra every message names is one pip can install (pyproject's optional dependencies)."""
    import tomllib

    extras = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    assert {"tensorboard", "wandb", "mlflow"} <= {req.split(">")[0].split("=")[0].strip() for req in extras["tracking"]}


# -- commands refuse a missing tracker before any work ----------------------------------------------


def test_commands_refuse_a_missing_tracker_before_writing(tiny_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    _missing(monkeypatch, "wandb", "tensorboard")
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data.jsonl"
    data.write_text(json.dumps({"prompt": "a " * 50, "completion": "b"}) + "\n")
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(yaml.safe_dump({"name": "tracked", "base_model": "tiny-random", "variants": [{"name": "control", "kind": "none"}],
                                     "eval": {"tasks": ["niah_single_1"], "lengths": [256], "limit": 1}}))
    commands = {
        "eval": ["eval", "--model", "tiny-random", "--tasks", "niah_single_1", "--lengths", "256", "--limit", "1",
                 "--output", "out/eval", "--wandb_args", "project=p,mode=offline"],
        "sweep": ["sweep", str(sweep), "--output", "out/sweep", "--wandb-args", "project=p"],
        "train": ["train", "--model", "tiny-random", "--data", str(data), "--stages", "256:1", "--output", "out/train",
                  "--report-to", "tensorboard"],
    }
    for name, command in commands.items():
        code, printed = _harness(capsys, *command)
        assert code == 2 and "lc-harness[tracking]" in printed and "Traceback" not in printed, (name, printed)
    assert not (tmp_path / "out").exists()


# -- W&B logging (a recording stand-in) ------------------------------------------------------------


@pytest.mark.slow
def test_eval_logs_the_scores_it_wrote_to_wandb(fake_wandb: FakeWandb, tiny_path: Path, tmp_path: Path) -> None:
    from harness import evaluate

    result = evaluate("tiny-random", "niah_single_1", lengths="256,512", limit=2, output=tmp_path / "run",
                      wandb_args="project=lc,mode=offline,tags=a|b")
    written = json.loads((tmp_path / "run" / "results.json").read_text())
    assert [{k: v for k, v in i.items() if k != "config"} for i in fake_wandb.inits] == [
        {"job_type": "eval", "project": "lc", "mode": "offline", "tags": ["a", "b"]}]
    assert fake_wandb.inits[0]["config"]["model"] == "tiny-random" and fake_wandb.finished == 1
    table = fake_wandb.logged[0]["results"]
    assert table.columns == ["task", "length", "score", "stderr", "n"]
    cells = {(row[0], row[1]): row[2] for row in table.data}
    for length, cell in written["results"]["niah_single_1"].items():
        label = {"256": "256", "512": "512"}[length]
        assert cells[("niah_single_1", label)] == cell["score"] == fake_wandb.summary[f"niah_single_1/{label}"]
    assert result.results == written["results"]


def test_a_wandb_failure_is_one_line_and_the_results_stay(monkeypatch: pytest.MonkeyPatch, tiny_path: Path,
                                                          tmp_path: Path) -> None:
    from harness import evaluate

    failing = FakeWandb(fail=RuntimeError("api_key=sk-PLANTED-WANDB-0123456789 rejected"))
    monkeypatch.setattr("harness.tracking.wandb_module", lambda: failing)
    monkeypatch.setattr("harness.tracking.find_spec", lambda name: object())
    with pytest.raises(HarnessError) as raised:
        evaluate("tiny-random", "niah_single_1", lengths=256, limit=1, output=tmp_path / "run", wandb_args={"project": "p"})
    message = str(raised.value)
    assert "Weights & Biases" in message and "results are saved" in message and "PLANTED" not in message
    assert json.loads((tmp_path / "run" / "results.json").read_text())["results"]["niah_single_1"]["256"]["n"] == 1


def test_a_sweep_logs_every_finished_variant(fake_wandb: FakeWandb, tiny_path: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(yaml.safe_dump({"name": "tracked", "base_model": "tiny-random", "variants": [{"name": "control", "kind": "none"}],
                                     "eval": {"tasks": ["niah_single_1"], "lengths": [256], "limit": 1}}))
    code, printed = _harness(capsys, "sweep", str(sweep), "--wandb-args", "project=p")
    assert code == 0, printed
    assert fake_wandb.inits[0]["job_type"] == "sweep" and fake_wandb.inits[0]["name"] == "tracked"
    table = fake_wandb.logged[0]["results"]
    assert table.columns[0] == "variant" and {row[0] for row in table.data} == {"control"}
    assert "control/niah_single_1/256" in fake_wandb.summary and "logged to W&B: /fake/wandb/run" in printed


# -- the real packages, where installed (the `tracking` extra) -------------------------------------


def test_needs_tensorboard_train_writes_event_files(tiny_path: Path, tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    from harness.train.spec import TrainSpec, parse_stages
    from harness.train.trainer import train

    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps({"prompt": f"{i} " * 60, "completion": "done"}) + "\n" for i in range(4)))
    spec = TrainSpec(model="tiny-random", data=str(data), stages=parse_stages("256:2"), report_to=("tensorboard",))
    train(spec, tmp_path / "out")
    assert list((tmp_path / "out").rglob("events.out.tfevents.*"))


def test_needs_wandb_eval_logs_offline(tiny_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("wandb")
    from harness import evaluate

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path / "wandb"))
    monkeypatch.setenv("WANDB_SILENT", "true")
    (tmp_path / "wandb").mkdir()
    evaluate("tiny-random", "niah_single_1", lengths=256, limit=1, output=tmp_path / "run", wandb_args="project=lc")
    assert list((tmp_path / "wandb").rglob("results_*.table.json"))
