"""The classic NIAH: depth x length grid, needle placement, heatmap, judge scoring and its cache."""

import json

import pytest

from harness.core.prompt import PromptFormat
from harness.judge import Judge
from harness.runner import EvalConfig, evaluate
from harness.tasks import get_task
from harness.tasks.data import TaskOptions
from harness.tasks.niah.task import NiahOptions, depth_grid, needle_depths, parse_rating
from tests.fakes import ScriptedBackend

NEEDLE = "The best thing to do in San Francisco is eat a sandwich and sit in Dolores Park on a sunny day."


def _context(sample) -> str:
    return sample.prompt[1]["content"]


@pytest.mark.parametrize("chat", ["on", "off"])
def test_grid_samples_fit_and_place_the_needle(chat, chat_tokenizer, shared_data) -> None:
    options = TaskOptions(data_dir=shared_data, args={"depth_steps": 5})
    task = get_task("niah", options)
    assert task.num_samples == 5
    fmt = PromptFormat.create(chat_tokenizer, chat)
    for length in (1024, 4096):
        samples = task.samples(fmt, length, task.num_samples, seed=1)
        assert [s.needle_depths.depths[0] for s in samples if s.needle_depths] == [0.0, 25.0, 50.0, 75.0, 100.0]
        assert all(s.needle_depths and s.needle_depths.grid for s in samples)
        positions = []
        for sample in samples:
            exact = fmt.count(sample.prompt, sample.answer_prefix)
            assert sample.prompt_tokens == exact
            assert 0.97 * length <= exact + task.max_new_tokens <= length
            context = _context(sample)
            assert context.count(NEEDLE) == 1
            at = context.index(NEEDLE)
            positions.append(at / len(context))
            if 0 < at < len(context) - len(NEEDLE):
                assert context[:at].rstrip()[-1] in '.!?")\''  # moved back to a sentence boundary
        assert positions[0] == 0.0 and context.endswith(NEEDLE)  # depth 0 first, depth 100 last
        assert positions == sorted(positions)
        assert all(abs(p - d / 100) < 0.1 for p, d in zip(positions, [0, 25, 50, 75, 100]))


def test_multi_needle_depths_follow_the_reference() -> None:
    assert needle_depths(40.0, 3) == [40.0, 60.0, 80.0]
    assert needle_depths(0.0, 2) == [0.0, 50.0]


def test_depth_options() -> None:
    assert depth_grid(NiahOptions.parse({"depths": [0, 50, 100]})) == (0.0, 50.0, 100.0)
    assert depth_grid(NiahOptions.parse({"depths": "0;50;100"})) == (0.0, 50.0, 100.0)
    assert depth_grid(NiahOptions.parse({"depth_steps": 3})) == (0.0, 50.0, 100.0)
    assert len(depth_grid(NiahOptions())) == 11


@pytest.mark.parametrize("reply,score", [("Rating: [[7]]", 70.0), ("[[10]]", 100.0), ("I'd say 3.", 30.0),
                                         ("no idea", None), ("[[11]]", None)])
def test_parse_rating(reply: str, score) -> None:
    assert parse_rating(reply) == score


def test_run_writes_grid_heatmap_and_judged_scores(tokenizer, shared_data, tmp_path) -> None:
    model = ScriptedBackend(tokenizer, answer=lambda r: "Eat a sandwich in Dolores Park.")
    config = EvalConfig(model="scripted", tasks=["niah", "niah_multi"], lengths=[1024, 2048],
                        data_dir=str(shared_data), task_args={"depths": [0, 50, 100]})
    _, result = evaluate(config, model, tmp_path / "plain", None)
    assert result.results["niah"]["1024"]["score"] == 100.0
    assert result.results["niah_multi"]["1024"]["score"] == 0.0  # no pizza ingredient named
    report = result.extra["reports"]["niah"]
    assert report["grid"]["depths"] == [0.0, 50.0, 100.0] and report["grid"]["lengths"] == [1024, 2048]
    assert report["grid"]["scores"] == [[100.0, 100.0]] * 3
    png = tmp_path / "plain" / report["heatmap"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    on_disk = json.loads((tmp_path / "plain" / "results.json").read_text())
    assert on_disk["reports"]["niah"]["grid"] == report["grid"]

    judge_backend = ScriptedBackend(tokenizer, answer=lambda r: "Close enough. Rating: [[7]]")
    judge = Judge(judge_backend, "scripted-judge", tmp_path / "judge.db")
    _, judged = evaluate(config, ScriptedBackend(tokenizer, answer=lambda r: "Eat a sandwich."), tmp_path / "judged",
                         None, judge)
    assert judged.results["niah"]["2048"]["score"] == 70.0
    assert judged.results["niah"]["2048"]["judge_failed"] == 0
    assert judged.config["judge"] == "scripted-judge"
    assert judge.calls == 2 and judge.hits == 10  # one distinct prompt per task: asked once each
    assert "[Ground truth]" in judge_backend.requests[0].text and NEEDLE in judge_backend.requests[0].text

    again = Judge(ScriptedBackend(tokenizer, answer=lambda r: "[[1]]"), "scripted-judge", tmp_path / "judge.db")
    _, rerun = evaluate(config, ScriptedBackend(tokenizer, answer=lambda r: "Eat a sandwich."), tmp_path / "judged-2",
                        None, again)
    assert again.calls == 0 and again.hits == 12  # every judgment came from the cache
    assert rerun.results["niah"]["2048"]["score"] == 70.0


def test_unreadable_verdicts_are_counted(tokenizer, shared_data, tmp_path) -> None:
    judge = Judge(ScriptedBackend(tokenizer, answer=lambda r: "hmm"), "mute-judge", tmp_path / "judge.db")
    config = EvalConfig(model="scripted", tasks=["niah"], lengths=[1024], data_dir=str(shared_data),
                        task_args={"depths": [50]})
    _, result = evaluate(config, ScriptedBackend(tokenizer), tmp_path / "out", None, judge)
    assert result.results["niah"]["1024"] == {**result.results["niah"]["1024"], "score": 0.0, "judge_failed": 1}
