"""Secrets never persisted: `redact` by key, URL and inline pattern; sweep files refuse keys; and planted
secrets, put everywhere a user can put one, are grepped for across every file the commands write (outputs,
caches, the results database's bytes) and everything they print, with the real ones still reaching the server."""

from __future__ import annotations

import base64
import json
import sys
import threading
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from harness.core.errors import HarnessError
from harness.core.redaction import REDACTED, find_secrets, is_secret_key, redact, redact_text
from harness.core.registry import Registry
from harness.sweep.config import parse_sweep, read_sweep
from harness.sweep.stages import RUNNERS, Stage, plan_variant, run_stage
from tests.fakes_http import QuietJSONHandler

ROOT = Path(__file__).resolve().parents[3]

# -- redact ------------------------------------------------------------------------------------------

SECRET_KEYS = ["api_key", "apikey", "apiKey", "API_KEY", "x-api-key", "openai_api_key", "token", "hf_token", "accessToken",
               "access_token", "auth_token", "secret", "client_secret", "password", "db_password", "passwd", "auth",
               "Authorization", "proxy-authorization", "cookie", "credentials", "private_key", "secret-key", "bearer"]
PLAIN_KEYS = ["key", "stage", "tokenizer", "max_tokens", "max_new_tokens", "tokens_to_generate", "prompt_tokens",
              "eos_token", "pad_token", "token_counter", "real_token_share", "author", "passkey", "niah_multikey_1",
              "monkey", "keys", "base_url", "model", "tokenizer_hash", "spec_digest"]


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_secret_keys_are_found_in_any_spelling(key: str) -> None:
    assert is_secret_key(key)
    assert redact({key: "v4lue", "other": 1}) == {key: REDACTED, "other": 1}


@pytest.mark.parametrize("key", PLAIN_KEYS)
def test_ordinary_keys_are_left_alone(key: str) -> None:
    assert not is_secret_key(key)
    assert redact({key: "v4lue"}) == {key: "v4lue"}


TEXTS = [  # (text, what must go, what must stay)
    ("http://user:sk-abc@127.0.0.1:8000/v1", "user:sk-abc", "http://<redacted>@127.0.0.1:8000/v1"),
    ("https://tok3n@host.example/v1/models", "tok3n", "https://<redacted>@host.example/v1/models"),
    ("cannot reach the server at http://u:p4ss@10.0.0.1:9/v1: refused", "u:p4ss", "at http://<redacted>@10.0.0.1:9/v1: refused"),
    ("key sk-proj-AbCdEf0123456789 leaked", "sk-proj-AbCdEf0123456789", "key <redacted> leaked"),
    ("sk-ant-api03-xyzXYZ0123456789-_", "api03-xyz", REDACTED),
    ("hf_abcdefghijklmnopqrstuvwxyz12", "hf_abcdef", REDACTED),
    ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_", REDACTED),
    ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc.def", "eyJhbGci", "Bearer <redacted>"),
    ("GET /v1?api_key=zzz123&x=1", "zzz123", "api_key=<redacted>&x=1"),
    ("TypeError: {'password': 'hunter22', 'n': 1}", "hunter22", "'password': '<redacted>', 'n': 1"),
]


@pytest.mark.parametrize(("text", "gone", "kept"), TEXTS)
def test_secrets_inside_strings_are_replaced(text: str, gone: str, kept: str) -> None:
    out = redact_text(text)
    assert gone not in out and kept in out
    assert redact({"note": [text]}) == {"note": [out]}


PLAIN_TEXTS = ["http://127.0.0.1:8000/v1", "https://api.openai.com/v1", "/data/task-sk-reports", "disk-images",
               "user@example.com", "The secret ingredients are figs.", "The token limit is 4096.", "basic arithmetic",
               "runs/sweeps/tiny-demo/stages/eval-99e4ad1b62ccfd21", "sha256:0123456789abcdef", "openai:gpt-4o",
               "HuggingFaceTB/SmolLM2-135M-Instruct", "One of the special magic numbers for sk-x is: 42."]


def test_secret_free_records_come_back_byte_identical() -> None:
    for text in PLAIN_TEXTS:
        assert redact_text(text) == text
    record = {"version": 1, "config": {"model": "openai:m", "base_url": "http://127.0.0.1:8000/v1", "model_args": {"mode": "chat"},
              "lengths": (1024, 2048), "tokenizer": "/ckpt", "seed": 42, "nan": float("inf"), "none": None},
              "z": [1, 2.5, True], "a": {"key": "9f2c", "eos_token": "</s>", "token_counter": "tokenizer"}}
    out = redact(record)
    assert out == record and list(out) == list(record) and isinstance(out["config"]["lengths"], tuple)
    assert json.dumps(out) == json.dumps(record) and out is not record
    assert find_secrets(record) == []


def test_nested_secrets_are_found_and_the_original_is_untouched() -> None:
    spec = {"eval": {"model_args": {"api_key": "sk-1", "headers": {"Authorization": "Basic dXNlcg==", "Accept": "json"},
                                    "base_url": "http://u:p@h/v1"}}, "auth": ["user", "pass", 3]}
    original = json.dumps(spec)
    out = redact(spec)
    assert json.dumps(spec) == original  # a copy: the caller keeps the real values for the backend
    assert out == {"eval": {"model_args": {"api_key": REDACTED, "headers": {"Authorization": REDACTED, "Accept": "json"},
                                           "base_url": f"http://{REDACTED}@h/v1"}}, "auth": [REDACTED, REDACTED, 3]}
    assert find_secrets(spec) == ["eval.model_args.api_key", "eval.model_args.headers.Authorization",
                                  "eval.model_args.base_url", "auth"]
    assert find_secrets(spec, urls=False) == ["eval.model_args.api_key", "eval.model_args.headers.Authorization", "auth"]


# -- sweeps: keys refused, URLs redacted, stage keys unchanged ----------------------------------------

SWEEP: dict[str, Any] = {"name": "s", "base_model": "tiny-random", "variants": [{"name": "control", "kind": "none"}],
                         "eval": {"tasks": ["niah_single_1"], "lengths": [256], "limit": 1}}
NEEDLES = {"plugin": "needles", "config": {"tokenizer": "tiny-random", "examples": 2, "lengths": [256]}}


def _with_eval(**model_args: Any) -> dict[str, Any]:
    return {**SWEEP, "eval": {**SWEEP["eval"], "model_args": model_args}}


def _with_synth(**synth: Any) -> dict[str, Any]:
    return {**SWEEP, "variants": [{"name": "v", "synth": {**NEEDLES, **synth}}], "train": {"stages": "256:1"}}


REFUSED = [
    (_with_eval(api_key="sk-PLANTED-0123456789"), "eval.model_args.api_key"),
    (_with_eval(token="abc"), "eval.model_args.token"),
    (_with_eval(headers={"Authorization": "Bearer abc"}), "eval.model_args.headers.Authorization"),
    (_with_eval(mode="chat", note="sk-PLANTED-0123456789"), "eval.model_args.note"),
    ({**SWEEP, "eval": {**SWEEP["eval"], "task_args": {"hf_token": "hf_x"}}}, "eval.task_args.hf_token"),
    (_with_synth(generator_args={"api_key": "sk-1"}), r"variants\[0\].synth.generator_args.api_key"),
    (_with_synth(generator_args={"OPENAI_API_KEY": "x"}), r"variants\[0\].synth.generator_args.OPENAI_API_KEY"),
    (_with_synth(config={**NEEDLES["config"], "password": "p"}), r"variants\[0\].synth.config.password"),
]


@pytest.mark.parametrize(("data", "path"), REFUSED)
def test_sweep_files_refuse_keys_anywhere_and_point_to_the_environment(data: dict[str, Any], path: str) -> None:
    with pytest.raises(HarnessError, match=rf"^sweep.yaml: {path} looks like a secret .*OPENAI_API_KEY") as raised:
        parse_sweep(data, "sweep.yaml")
    assert "PLANTED" not in str(raised.value) and "abc" not in str(raised.value)


def test_sweep_files_accept_options_that_only_sound_like_keys() -> None:
    # `tokenizer` and `max_tokens` were refused by the old rule (any key containing "token")
    parse_sweep(_with_synth(generator="openai:m", generator_args={"tokenizer": "tiny-random", "max_tokens": 8}), "sweep.yaml")
    config = parse_sweep(_with_eval(base_url="http://user:pw@127.0.0.1:1/v1", tokenizer="tiny-random"), "sweep.yaml")
    (stage,) = plan_variant(config, config.variants[0])
    assert stage.params["model_args"]["base_url"] == "http://user:pw@127.0.0.1:1/v1"  # the stage runs with the real one


def test_stage_keys_of_the_worked_example_are_unchanged() -> None:
    """Keys computed at the commit before redaction existed: cached stages of existing sweeps stay valid."""
    config = read_sweep(ROOT / "sweeps" / "tiny-demo.yaml")
    ids = {v.name: [s.id for s in plan_variant(config, v)] for v in config.variants}
    assert ids == {"control": ["eval-99e4ad1b62ccfd21"],
                   "needles-1k": ["synth-53725b99df23989a", "train-deaa80f7a61f3f13", "eval-628d4317c5ab4ab8"],
                   "needles-2k": ["synth-3caf12423051f97f", "train-28d2493f1c254acc", "eval-86b735bf4188d690"]}
    for variant in config.variants:
        for stage in plan_variant(config, variant):
            assert redact(stage.to_dict()) == stage.to_dict()


def test_stage_json_is_redacted_while_the_stage_gets_the_real_values(tmp_path: Path, monkeypatch) -> None:
    seen: dict[str, Any] = {}

    def fake_eval(params: dict[str, Any], needs: list[Path], out: Path) -> dict[str, Any]:
        seen.update(params)
        raise RuntimeError(f"cannot reach {params['model_args']['base_url']}")

    monkeypatch.setitem(RUNNERS, "eval", fake_eval)
    url = "http://user:sk-PLANTED-STAGE-0123456789@127.0.0.1:9/v1"
    stage = Stage("eval", {"base_model": "openai:m", "model_args": {"base_url": url}})
    key = stage.key
    with pytest.raises(HarnessError) as raised:
        run_stage(stage, tmp_path, log=lambda text: None)
    assert seen["model_args"]["base_url"] == url and stage.key == key
    assert "PLANTED" not in str(raised.value) and "127.0.0.1:9" in str(raised.value)
    written = (tmp_path / "stages" / stage.id / "stage.json").read_text()
    assert "PLANTED" not in written and f"http://{REDACTED}@127.0.0.1:9/v1" in written and key in written


def test_a_sweep_summary_and_its_output_hold_no_credentials(tmp_path: Path, monkeypatch, capsys) -> None:
    from harness.sweep import run_sweep

    def unreachable(params: dict[str, Any], needs: list[Path], out: Path) -> dict[str, Any]:
        raise ConnectionError(f"no server at {params['model_args']['base_url']} (api_key=sk-PLANTED-MSG-0123456789)")

    monkeypatch.setitem(RUNNERS, "eval", unreachable)
    config = parse_sweep(_with_eval(base_url="http://u:sk-PLANTED-SUMMARY-0123456789@127.0.0.1:9/v1"), "sweep.yaml")
    summary = run_sweep(config, tmp_path / "sweep")
    error = summary["variants"]["control"]["error"]
    assert "127.0.0.1:9" in error and f"api_key={REDACTED}" in error
    assert "PLANTED" not in json.dumps(summary) and "PLANTED" not in "".join(capsys.readouterr())
    # an executor's own error text (a Ray task's, say) is redacted in the summary too
    from harness.sweep.executors import ChainResult

    monkeypatch.setattr("harness.sweep.run_local", lambda chains, root, jobs: [
        ChainResult("control", [], "RayTaskError: http://u:sk-PLANTED-RAY-0123456789@10.0.0.1/v1 refused")])
    summary = run_sweep(config, tmp_path / "sweep")
    assert summary["variants"]["control"]["error"] == f"RayTaskError: http://{REDACTED}@10.0.0.1/v1 refused"
    assert _leaks(tmp_path, tmp_path / "none") == []


def test_evaluate_writes_no_secret_a_backend_describes_and_keeps_secret_free_runs_identical(tokenizer, tmp_path: Path) -> None:
    from harness.runner import EvalConfig, evaluate, fingerprint, run_id_for
    from harness.store import Store
    from tests.fakes import ScriptedBackend

    class Leaky(ScriptedBackend):
        def describe(self) -> dict[str, Any]:
            return {"backend": "leaky", "headers": {"Authorization": "Bearer sk-PLANTED-HDR-0123456789"}}

    config = EvalConfig(model="m", tasks=["niah_single_1"], lengths=[256], limit=2,
                        model_args={"base_url": "http://u:sk-PLANTED-FP-0123456789@h/v1", "max_length": 4096})
    evaluate(config, Leaky(tokenizer), tmp_path / "leaky", Store(tmp_path / "results.db"))
    assert _leaks(tmp_path, tmp_path / "none") == []
    # a config without secrets: the fingerprint and run id are what they were before redaction existed
    plain = EvalConfig(model="m", tasks=["niah_single_1"], lengths=[256], limit=2, model_args={"max_length": 4096})
    backend = ScriptedBackend(tokenizer)
    run_id, result = evaluate(plain, backend, tmp_path / "plain", None)
    written = json.loads((tmp_path / "plain" / "run.json").read_text())["fingerprint"]
    expected = fingerprint(plain, backend, written["tokenizer"], written["chat_template_hash"])
    assert written == expected and run_id == run_id_for(expected, tmp_path / "plain")


def test_the_database_training_manifests_and_boards_redact_what_they_are_given(tmp_path: Path) -> None:
    """Each writer redacts on its own (defence in depth: a caller that forgot, a record from before redaction)."""
    from harness.leaderboards.collect import _manifest
    from harness.results import Result
    from harness.store import Store
    from harness.train.trainer import _write_json

    secret = {"base_url": "http://u:sk-PLANTED-DB-0123456789@h/v1", "model_args": {"api_key": "sk-PLANTED-DB2-0123456789"}}
    Store(tmp_path / "results.db").record("r1", Result({}, {}, {"model": "m", "backend": "openai", **secret}), tmp_path)
    _write_json(tmp_path / "manifest.json", {"spec": {"data": "https://user:hf_PLANTEDabcdefghijklmnopqrstu@hub/x"}})
    stage = tmp_path / "stages" / "synth-1" / "data"
    stage.mkdir(parents=True)
    # written before redaction
    (stage / "manifest.json").write_text(json.dumps({"plugin": "echo", "config": {}, "generator_base_url": secret["base_url"]}))
    shown = _manifest(tmp_path, {"kind": "synth", "stages": [{"id": "synth-1", "kind": "synth"}]})
    assert shown["data"]["generator_base_url"] == f"http://{REDACTED}@h/v1"
    assert _leaks(tmp_path, stage) == []
    assert Store(tmp_path / "results.db").result("r1").config["model_args"]["api_key"] == REDACTED  # type: ignore[union-attr]


# -- planted secrets, end to end ---------------------------------------------------------------------------


@dataclass
class Seen:
    authorizations: list[str]


class FakeOpenAI(QuietJSONHandler):
    """An OpenAI-compatible server serving models `m` and `j`: echoes prompts, records Authorization headers."""

    seen = Seen([])

    def _send(self, body: dict[str, Any]) -> None:
        FakeOpenAI.seen.authorizations.append(self.headers.get("Authorization", ""))
        self.send_json(body)

    def do_GET(self) -> None:
        self._send({"object": "list", "data": [{"id": name, "object": "model", "created": 0, "owned_by": "x", "max_model_len": 4096}
                                               for name in ("m", "j")]})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
        if self.path.endswith("/chat/completions"):
            choice = {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "[[5]] fine"}}
            self._send({"id": "c", "object": "chat.completion", "created": 0, "model": body["model"], "choices": [choice], "usage": usage})
        else:
            choice = {"index": 0, "finish_reason": "stop", "text": " 42.", "logprobs": None}
            self._send({"id": "c", "object": "text_completion", "created": 0, "model": body["model"], "choices": [choice],
                        "usage": usage})


@pytest.fixture()
def port() -> Iterator[int]:
    FakeOpenAI.seen = Seen([])
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield int(httpd.server_address[1])
    httpd.shutdown()
    httpd.server_close()


ENV_KEY = "sk-PLANTED-ENV-0123456789"


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _harness(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """`harness ARGS` in this process as `main` runs it (the loopback server lives here too): exit code, all output."""
    from harness.cli import main

    monkeypatch.setattr(sys, "argv", ["harness", *args])
    code = 0
    try:
        main()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    except Exception as error:  # noqa: BLE001  a traceback would print the message: it is output too
        code, printed = 1, f"{type(error).__name__}: {error}"
        captured = capsys.readouterr()
        return code, captured.out + captured.err + printed
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _leaks(root: Path, skip: Path) -> list[str]:
    """Every file under `root` (but `skip`) whose bytes hold a planted secret: outputs, caches, SQLite files."""
    return [str(p) for p in root.rglob("*") if p.is_file() and skip not in p.parents and b"PLANTED" in p.read_bytes()]


def _echo_plugin() -> type:
    """A synthesis plugin asking the generator once, with an option a user might fill with a key (test only)."""
    from dataclasses import dataclass as dc

    from harness.synth.plugin import Record, SynthPlugin

    @dc(frozen=True)
    class Config:
        prompt: str = "hello"
        api_key: str = ""

    class Echo(SynthPlugin):
        name = "echo"
        description = "asks once"

    def run(self, ctx, config):  # type: ignore[no-untyped-def]
        reply = ctx.generator.ask([[{"role": "user", "content": config.prompt}]])[0]
        yield Record("r0", ({"role": "user", "content": config.prompt}, {"role": "assistant", "content": reply}))

    Echo.Config = Config
    Echo.run = run  # type: ignore[method-assign]
    return Echo


def _cases(port: int, tiny: str, inputs: Path) -> list[tuple[str, list[str], int | None, str | None]]:
    """(where the secret is, the command, its exit code (None: either), the Authorization the server must see)."""
    url = f"127.0.0.1:{port}/v1"
    sweep = {"name": "planted", "base_model": "openai:m", "variants": [{"name": "control", "kind": "none"}],
             "eval": {"tasks": ["niah_single_1"], "lengths": [256], "limit": 2}}
    files = {
        "sweep-url.yaml": {**sweep, "eval": {**sweep["eval"], "model_args": {
            "base_url": f"http://sweeper:sk-PLANTED-SWEEPURL-0123456789@{url}", "tokenizer": tiny, "mode": "completions"}}},
        "sweep-key.yaml": {**sweep, "eval": {**sweep["eval"], "model_args": {"api_key": "sk-PLANTED-SWEEPKEY-0123456789"}}},
        "sweep-gen.yaml": {**sweep, "variants": [{"name": "v", "synth": {"plugin": "echo", "generator": "openai:m",
                                                                          "generator_args": {"api_key": "sk-PLANTED-GEN-0123456789"}}}],
                           "train": {"stages": "256:1"}},
        "echo.yaml": {"prompt": "hi", "api_key": "sk-PLANTED-PLUGINCFG-0123456789"},
        "board.yaml": {"name": "planted", "sweep": "out/sweep", "baseline": "control", "columns": [{"task": "niah_single_1"}]},
    }
    for name, data in files.items():
        (inputs / name).write_text(yaml.safe_dump(data))
    evaluate = ["eval", "--model", "openai:m", "--tasks", "niah_single_1", "--lengths", "256", "--limit", "2"]
    return [
        ("OPENAI_API_KEY", [*evaluate, "--base-url", f"http://{url}", "--tokenizer", tiny, "--model-args", "mode=completions",
                            "--output", "out/env"], 0, f"Bearer {ENV_KEY}"),
        ("--base-url userinfo", [*evaluate, "--base-url", f"http://alice:sk-PLANTED-URL-0123456789@{url}", "--tokenizer", tiny,
                                 "--model-args", "mode=completions", "--output", "out/url"], 0,
         _basic("alice", "sk-PLANTED-URL-0123456789")),
        ("--judge-base-url userinfo", [*evaluate, "--base-url", f"http://{url}", "--tokenizer", tiny, "--model-args",
                                       "mode=completions", "--judge", "openai:j", "--judge-base-url",
                                       f"http://judge:sk-PLANTED-JUDGE-0123456789@{url}", "--judge-tokenizer", tiny,
                                       "--output", "out/judge"], 0, _basic("judge", "sk-PLANTED-JUDGE-0123456789")),
        ("--model-args api_key", [*evaluate, "--base-url", f"http://{url}", "--tokenizer", tiny, "--model-args",
                                  "mode=completions,api_key=sk-PLANTED-ARGS-0123456789", "--output", "out/args"], None, None),
        ("--model-args base_url userinfo", [*evaluate, "--tokenizer", tiny, "--model-args",
                                            f"mode=completions,base_url=http://bob:sk-PLANTED-ARGURL-0123456789@{url}",
                                            "--output", "out/argurl"], 0, _basic("bob", "sk-PLANTED-ARGURL-0123456789")),
        ("generator --base-url userinfo and plugin config", ["synth", "run", "echo", "--config", str(inputs / "echo.yaml"),
                                                             "--out", "out/synth", "--generator", "openai:m", "--base-url",
                                                             f"http://gen:sk-PLANTED-GENURL-0123456789@{url}", "--tokenizer", tiny,
                                                             "--model-args", "mode=completions"], 0,
         _basic("gen", "sk-PLANTED-GENURL-0123456789")),
        ("generator --model-args api_key", ["synth", "run", "echo", "--config", str(inputs / "echo.yaml"), "--out", "out/synth2",
                                            "--generator", "openai:m", "--base-url", f"http://{url}", "--tokenizer", tiny,
                                            "--model-args", "mode=completions,api_key=sk-PLANTED-GENARGS-0123456789"], None, None),
        ("sweep eval.model_args base_url", ["sweep", str(inputs / "sweep-url.yaml"), "--output", "out/sweep"], 0,
         _basic("sweeper", "sk-PLANTED-SWEEPURL-0123456789")),
        ("a board over that sweep", ["leaderboard", "build", str(inputs / "board.yaml"), "--output", "out/board"], 0, None),
        ("the runs so far, listed", ["runs"], 0, None),
        ("--base-url and --model-args base_url in conflict", [*evaluate, "--tokenizer", tiny, "--base-url",
                                                              f"http://a:sk-PLANTED-CLASH1-0123456789@{url}", "--model-args",
                                                              f"base_url=http://b:sk-PLANTED-CLASH2-0123456789@{url}",
                                                              "--output", "out/clash"], 2, None),
        ("sweep eval.model_args api_key", ["sweep", str(inputs / "sweep-key.yaml"), "--output", "out/sweep-key"], 2, None),
        ("sweep generator_args api_key", ["sweep", str(inputs / "sweep-gen.yaml"), "--output", "out/sweep-gen"], 2, None),
    ]


def _echo_registry() -> tuple[Registry[Any], dict[str, str]]:
    """The installed-plugin registry with only the test's echo plugin in it."""
    found: Registry[Any] = Registry("synth plugin")
    found.register("echo", _echo_plugin())
    return found, {}


def test_planted_secrets_reach_the_server_and_no_file_or_output(port: int, tiny_path: Path, tmp_path: Path, monkeypatch,
                                                                 capsys) -> None:
    inputs, work, cache = tmp_path / "inputs", tmp_path / "work", tmp_path / "cache"
    inputs.mkdir()
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HARNESS_CACHE", str(cache))  # sample cache, judge cache, models: all inspected below
    monkeypatch.setenv("HARNESS_DB", str(cache / "results.db"))
    monkeypatch.setenv("OPENAI_API_KEY", ENV_KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setattr("harness.synth.plugin.registry", _echo_registry)
    failures = []
    for where, command, expected, authorization in _cases(port, str(tiny_path), inputs):
        FakeOpenAI.seen.authorizations.clear()
        code, printed = _harness(monkeypatch, capsys, *command)
        if "PLANTED" in printed:
            failures.append(f"{where}: printed {printed!r}")
        if expected is not None and code != expected:  # None: refused or accepted, as long as nothing leaks
            failures.append(f"{where}: exit {code}, not {expected}: {printed[-800:]}")
        if authorization is not None and authorization not in FakeOpenAI.seen.authorizations:
            failures.append(f"{where}: the server never saw the real credentials ({FakeOpenAI.seen.authorizations[:3]})")
        if leaked := _leaks(tmp_path, inputs):
            failures.append(f"{where}: written to {leaked}")
            break
    assert not failures, "\n".join(failures)
    # the runs that succeeded wrote their records, with the credentials visibly redacted
    results = json.loads((work / "out" / "url" / "results.json").read_text())
    assert results["config"]["base_url"] == f"http://{REDACTED}@127.0.0.1:{port}/v1"
    judged = json.loads((work / "out" / "judge" / "results.json").read_text())
    assert judged["config"]["judge_base_url"] == f"http://{REDACTED}@127.0.0.1:{port}/v1"
    manifest = json.loads((work / "out" / "synth" / "manifest.json").read_text())
    assert manifest["config"]["api_key"] == REDACTED and manifest["generator_base_url"].startswith(f"http://{REDACTED}@")
    summary = json.loads((work / "out" / "sweep" / "sweep.json").read_text())
    assert summary["variants"]["control"]["status"] == "done"
    assert (work / "out" / "board" / "index.html").exists()
    assert (cache / "results.db").stat().st_size > 0 and (cache / "samples").is_dir()
