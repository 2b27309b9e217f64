"""The plugin system on context synthesis with a scripted generator: records, config errors,
the raw-response cache, kill and resume."""

import json
import re

import pytest

from harness.core.errors import HarnessError
from harness.synth.context_synthesis.plugin import ContextSynthesis, parse_context
from harness.synth.llm import Generator, ParseError
from harness.synth.plugin import get_plugin, load_config, plugins
from harness.synth.run import run_plugin
from tests.fakes import ScriptedBackend


def _seeds(tmp_path, task: str, n: int):
    path = tmp_path / f"{task}.jsonl"
    path.write_text("".join(json.dumps({"instruction": f"{task} question {i}?", "answer": f"answer {i}"}) + "\n" for i in range(n)))
    return str(path)


def _context_reply(request) -> str:
    question = re.search(r"Question: (.*?)\n", request.text).group(1)
    return f"Sure.\nContext: Background about {question} " + "filler " * 20


def _run(tmp_path, backend, config: dict, out_name: str = "out"):
    cfg = load_config(ContextSynthesis.Config, config, "test config")
    gen = Generator(backend, "scripted", tmp_path / out_name / "llm_cache.sqlite")
    return run_plugin(ContextSynthesis(), cfg, gen, [], tmp_path / out_name, seed=0)


def test_registered_through_the_entry_point() -> None:
    assert "context_synthesis" in plugins() and get_plugin("context_synthesis") is ContextSynthesis
    with pytest.raises(HarnessError, match="unknown synth plugin 'wild'"):
        get_plugin("wild")


def test_records_mix_the_context_with_distractors_of_the_same_task(tokenizer, tmp_path) -> None:
    config = {"seeds": {"hotpotqa": _seeds(tmp_path, "hotpotqa", 5), "qmsum": _seeds(tmp_path, "qmsum", 4)}, "distractors": 3}
    stats = _run(tmp_path, ScriptedBackend(tokenizer, answer=_context_reply), config)
    records = [json.loads(line) for line in (tmp_path / "out" / "data.jsonl").read_text().splitlines()]
    assert stats["records"] == 9 and stats["llm_calls"] == 9 and stats["dropped"] == {}
    first = next(r for r in records if r["meta"]["task"] == "hotpotqa" and r["messages"][1]["content"] == "answer 0")
    user = first["messages"][0]["content"]
    assert user.startswith("Answer the question based on the given passages.") and user.endswith("Question: hotpotqa question 0?\nAnswer:")
    assert "Background about hotpotqa question 0?" in user and user.count("Background about hotpotqa") == 4
    assert "qmsum" not in user.split("Question:")[0]  # distractors only from the same task
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["plugin"] == "context_synthesis" and manifest["config"]["distractors"] == 3 and manifest["generator"] == "scripted"


def test_rerun_asks_nothing_and_kill_resumes_from_the_cache(tokenizer, tmp_path) -> None:
    config = {"seeds": {"hotpotqa": _seeds(tmp_path, "hotpotqa", 4), "musique": _seeds(tmp_path, "musique", 4)}, "distractors": 2}
    _run(tmp_path, ScriptedBackend(tokenizer, answer=_context_reply), config, "clean")
    with pytest.raises(KeyboardInterrupt):  # killed after the first batch of two calls
        _run(tmp_path, ScriptedBackend(tokenizer, answer=_context_reply, fail_after_batches=1), config, "killed")
    assert not (tmp_path / "killed" / "data.jsonl").exists()
    stats = _run(tmp_path, ScriptedBackend(tokenizer, answer=_context_reply), config, "killed")
    assert stats["llm_calls"] == 6 and stats["llm_cache_hits"] == 2  # only the calls not finished are asked again
    assert (tmp_path / "killed" / "data.jsonl").read_bytes() == (tmp_path / "clean" / "data.jsonl").read_bytes()
    again = _run(tmp_path, ScriptedBackend(tokenizer, answer=_context_reply), config, "killed")
    assert again["llm_calls"] == 0 and again["llm_cache_hits"] == 8


def test_unparsable_replies_are_reasked_then_kept_raw(tokenizer, tmp_path) -> None:
    config = {"seeds": {"hotpotqa": _seeds(tmp_path, "hotpotqa", 3)}, "distractors": 1, "tries": 2}
    stats = _run(tmp_path, ScriptedBackend(tokenizer, answer=lambda r: "I cannot infer it."), config)
    assert stats["llm_calls"] == 6 and stats["records"] == 3  # 3 pairs x 2 tries
    assert list(stats["notes"].values()) == [3]
    with pytest.raises(ParseError):
        parse_context("no marker")
    assert parse_context("x\nContext:  the text \n") == "the text"


@pytest.mark.parametrize(("config", "message"), [
    ({"seeds": {"hotpotqa": "x"}, "distractor": 3}, "unknown field 'distractor'"),
    ({"seeds": {"hotpotqa": "x"}, "distractors": "nine"}, "field 'distractors' = 'nine'"),
    ({"seeds": {"trivia": "x"}}, "seeds: unknown task 'trivia'"),
    ({}, "seeds: give at least one task"),
])
def test_bad_config_names_the_field(config: dict, message: str) -> None:
    with pytest.raises(HarnessError, match=message):
        load_config(ContextSynthesis.Config, config, "cfg.yaml")


def test_too_few_items_for_distractors_are_dropped_with_a_reason(tokenizer, tmp_path) -> None:
    config = {"seeds": {"hotpotqa": _seeds(tmp_path, "hotpotqa", 3)}, "distractors": 5}
    stats = _run(tmp_path, ScriptedBackend(tokenizer, answer=_context_reply), config)
    assert stats["records"] == 0 and sum(stats["dropped"].values()) == 3


def test_sampled_calls_carry_temperature_and_a_seed_per_attempt(tokenizer, tmp_path) -> None:
    from harness.synth.llm import Params

    backend = ScriptedBackend(tokenizer, answer=lambda r: "no marker")
    gen = Generator(backend, "scripted", tmp_path / "cache.sqlite")
    gen.ask_parsed([[{"role": "user", "content": "hi"}]], parse_context, Params(max_tokens=8, temperature=0.8), tries=2)
    first, second = backend.requests
    assert first.temperature == second.temperature == 0.8 and first.seed != second.seed
