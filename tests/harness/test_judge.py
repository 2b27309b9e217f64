"""The one cached judge (`harness.judge`) as the runner uses it (`judge_batch`): single-prompt judges keep their prompts,
cache keys and sample fields; several-prompt judges (HELMET's summaries) are batched with them into one judge call; and
an openai: judge reached through `--judge-base-url` is the one recorded in results.json, with no secret."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

from harness.core.llm_client import LLMCache, Params, cache_key
from harness.core.prompt import PromptFormat
from harness.core.types import Sample
from harness.judge import Judge
from harness.runner.execute import judge_batch, score_item
from harness.runner.plan import WorkItem
from harness.tasks.base import JudgeCall, JudgeSpec, Metric, MultiJudge, Task
from tests.fakes import ScriptedBackend
from tests.fakes_http import QuietJSONHandler
from tests.tasks.helmet.test_summ import lexsum_dir


def _task(name: str, judge: JudgeSpec) -> Task:
    return Task(name=name, make_sample=lambda *a: None, metric=Metric("m", lambda o, t: 0.0), max_new_tokens=8,  # type: ignore[arg-type,return-value]
                judge=judge)


def _item(task: Task, index: int, tokenizer) -> WorkItem:  # type: ignore[no-untyped-def]
    sample = Sample(id=f"{task.name}-{index}", task=task.name, length=64, index=index, prompt="p", targets=("gold",))
    return WorkItem(task, sample, PromptFormat(tokenizer, chat=False), 1)


def _single() -> JudgeSpec:
    return JudgeSpec(lambda s, o: [{"role": "user", "content": f"Rate {o} against {s.targets[0]}"}],
                     lambda r: 7.0 if "[[7]]" in r else None, max_tokens=32)


def _multi() -> JudgeSpec:
    def calls(sample: Sample, output: str) -> list[JudgeCall]:
        return [JudgeCall(n, [{"role": "user", "content": f"{n}: {output}"}], lambda r: {"x": 1.0} if "[[7]]" in r else None)
                for n in ("a", "b")]

    return JudgeSpec(max_tokens=32, multi=MultiJudge(calls, lambda s, rs: (float(len(rs)), {"names": sorted(rs)})))


def test_a_judge_spec_is_single_or_several_prompts() -> None:
    with pytest.raises(ValueError):
        JudgeSpec()
    with pytest.raises(ValueError):
        JudgeSpec(_single().prompt, _single().parse, multi=_multi().multi)


def test_single_and_several_prompt_judges_share_one_call_and_keep_their_keys(tokenizer, tmp_path: Path) -> None:
    single, multi = _task("single", _single()), _task("multi", _multi())
    batch = [_item(single, 0, tokenizer), _item(multi, 1, tokenizer), _item(single, 2, tokenizer)]
    backend = ScriptedBackend(tokenizer, answer=lambda r: "[[7]]", batch=1)
    judge = Judge(backend, "j", tmp_path / "judge.db")
    errors: list[str | None] = [None, None, "model failed"]
    out = judge_batch(judge, batch, [" one ", "two", "three"], errors)
    assert backend.batches == 1 and len(backend.requests) == 3  # 1 + 2 prompts in one call; the failed item not judged
    assert out[2] is None and errors == [None, None, "model failed"]
    record = score_item(batch[0], " one ", 0.0, out[0])
    assert list(record.meta) == ["judge_reply", "judge_failed"] and record.meta == {"judge_reply": "[[7]]", "judge_failed": False}
    assert record.score == 7.0
    # the single-prompt judge's cache key is the one it always had: (name, messages, max_tokens, temperature 0, attempt 0)
    key = cache_key("j", [{"role": "user", "content": "Rate one against gold"}], Params(32, 0.0), 0)
    assert LLMCache(tmp_path / "judge.db").get([key]) == {key: "[[7]]"}
    several = score_item(batch[1], "two", 0.0, out[1])
    assert several.score == 2.0 and several.meta["judge_details"] == {"names": ["a", "b"]}
    assert several.meta["judge_verdicts"]["a"] == {"reading": {"x": 1.0}, "reply": "[[7]]"} and several.meta["judge_failed"] is False


class JudgeAPI(QuietJSONHandler):
    """An OpenAI-compatible judge `m` answering HELMET's three calls; records the paths it was asked."""

    seen: list[str] = []

    def do_GET(self) -> None:
        JudgeAPI.seen.append(self.path)
        self.send_json({"object": "list", "data": [{"id": "m", "object": "model", "created": 0, "owned_by": "x", "max_model_len": 8192}]})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        JudgeAPI.seen.append(self.path)
        text = json.dumps(body.get("messages") or body.get("prompt"))
        reply = ('{"fluency": 1}' if "evaluate the fluency" in text else '{"recall": 2}' if "Recall:" in text
                 else '{"precision": 1, "sentence_count": 1}')
        usage = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
        if self.path.endswith("/chat/completions"):
            choice = {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": reply}}
            self.send_json({"id": "c", "object": "chat.completion", "created": 0, "model": "m", "choices": [choice], "usage": usage})
        else:  # a judge tokenizer without a chat template talks completions
            choice = {"index": 0, "finish_reason": "stop", "text": reply, "logprobs": None}
            self.send_json({"id": "c", "object": "text_completion", "created": 0, "model": "m", "choices": [choice], "usage": usage})


@pytest.fixture()
def judge_server() -> Iterator[str]:
    JudgeAPI.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), JudgeAPI)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


@pytest.mark.slow
def test_judge_base_url_is_honoured_and_recorded_without_secrets(judge_server: str, tiny_path, tmp_path: Path) -> None:
    """`--judge openai:m --judge-base-url URL`: every judge call goes to URL (OPENAI_BASE_URL points at a dead port),
    results.json names the judge and its URL with the planted password redacted."""
    secret = "sk-PLANTED-JUDGE-0123456789"
    args = ["eval", "--model", str(tiny_path), "--tasks", "helmet_multi_lexsum", "--lengths", "1k", "--limit", "1",
            "--data-dir", str(lexsum_dir(tmp_path / "d", n=1)), "--output", str(tmp_path / "out"), "--judge", "openai:m",
            "--judge-base-url", f"http://judge:{secret}@{judge_server}", "--judge-tokenizer", str(tiny_path)]
    env = {**os.environ, "OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "HARNESS_CACHE": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert sum(p.endswith("completions") for p in JudgeAPI.seen) == 3  # fluency, recall, precision
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["config"]["judge"] == "openai:m"
    assert results["config"]["judge_base_url"].endswith(f"@{judge_server}") and secret not in json.dumps(results)
    cell = results["results"]["helmet_multi_lexsum"]["1024"]
    assert cell["score"] == pytest.approx(100 * 2 * 0.5 * 1.0 / 1.5) and cell["judge_failed"] == 0  # recall 2/4, precision 1/1


@pytest.mark.slow
def test_a_local_checkpoint_judges_helmet_summaries(tmp_path: Path, monkeypatch) -> None:
    """`--judge tiny-random` (a local checkpoint, here the evaluated model itself): its three calls per summary go
    through the same cached judge; a random model's replies are unreadable, so the sample scores 0 and is counted."""
    from harness import api

    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    result = api.evaluate("tiny-random", ["helmet_multi_lexsum"], lengths=[1024], limit=1, output=str(tmp_path / "out"),
                          data_dir=str(lexsum_dir(tmp_path / "d", n=1)), judge="tiny-random",
                          task_args={"judge_max_tokens": 4, "shots": 1}, db=str(tmp_path / "runs.db"))
    cell = result.results["helmet_multi_lexsum"]["1024"]
    assert cell["n"] == 1 and cell["score"] == 0.0 and cell["judge_failed"] == 1
    assert result.config["judge"] == "tiny-random"
    line = json.loads((tmp_path / "out" / "samples" / "helmet_multi_lexsum.jsonl").read_text())
    assert set(line["meta"]["judge_verdicts"]) == {"fluency", "recall", "precision"}
