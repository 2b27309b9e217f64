"""Bad input through the real `harness` entry point, table-driven: every command that reads a user
file x every way such a file goes wrong, and malformed argument values.

Each case must end the way `harness.cli.main` promises for user errors: exit status 2, exactly one
line on stderr, starting with `error:` and naming the file (with the line or field where there is
one) or the value; never a traceback. The errors come before any model is loaded (the model named
is the tiny built-in, never loaded by these cases).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from tests.clirun import run_cli

DIR = "<a directory>"  # the file is a directory
MISSING = "<missing>"  # the file does not exist
EVAL = ["eval", "--model", "tiny-random", "--lengths", "256"]


def assert_one_error_line(code: int, out: str, err: str, expected: list[str]) -> None:
    assert "Traceback" not in err + out, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), f"exit {code}, stderr:\n{err}"
    for fragment in expected:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"


# -- the files ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reader:
    """A command reading one user file: where the file goes, the command line that reads it,
    and per kind of bad file its content and what the error line must say (`{path}` is the file)."""

    name: str
    file: str  # the file's path under the test's tmp dir
    argv: Callable[[Path, Path], list[str]]  # (file, tmp dir) -> command line
    cases: dict[str, tuple[object, list[str]]]
    setup: Callable[[Path], None] = field(default=lambda tmp: None)


def jsonl_cases(valid: dict, wrong_types: dict, wrong_field: str, missing: str = "missing field",
                empty: str = "", directory: str = "directory", absent: str = "does not exist") -> dict[str, tuple[object, list[str]]]:
    """The bad-file kinds of a JSONL reader; each bad line is line 2, after a good one."""
    good = json.dumps(valid) + "\n"
    return {
        "non_utf8": (good.encode() + b'{"text": "caf\xe9"}\n', ["{path}:2", "not UTF-8"]),
        "empty": (b"", ["{path}", empty]),
        "truncated_json": (good + '{"text": "ab', ["{path}:2", "not valid JSON"]),
        "list_not_object": (good + '["a", "b"]\n', ["{path}:2", "expected a JSON object, got an array"]),
        "string_not_object": (good + '"some text"\n', ["{path}:2", "got a string"]),
        "missing_keys": (good + '{"unrelated": 1}\n', ["{path}:2", missing]),
        "wrong_types": (good + json.dumps(wrong_types) + "\n", ["{path}:2", f"{wrong_field!r}", "expected"]),
        "directory": (DIR, ["{path}", directory]),
        "missing": (MISSING, ["{path}", absent]),
    }


def yaml_cases(wrong_type: str, wrong_field: str, missing: str, missing_says: str, unknown: str) -> dict[str, tuple[object, list[str]]]:
    """The bad-file kinds of a YAML config reader."""
    return {
        "non_utf8": (b"name: demo\nnote: caf\xe9\n", ["{path}:2", "not UTF-8"]),
        "broken_yaml": ("name: [demo\nother: 1\n", ["{path}", "not valid YAML"]),
        "tab_indented_yaml": ("name: demo\n\tother: 1\n", ["{path}", "not valid YAML"]),
        "list_not_mapping": ("- a\n- b\n", ["{path}", "expected a mapping", "got an array"]),
        "string_not_mapping": ("just words\n", ["{path}", "expected a mapping", "got a string"]),
        "missing_keys": (missing, ["{path}", missing_says]),
        "unknown_field": (unknown, ["{path}", "unknown field"]),
        "wrong_type": (wrong_type, ["{path}", wrong_field]),
        "directory": (DIR, ["{path}", "directory"]),
        "missing": (MISSING, ["{path}", "does not exist"]),
    }


def json_doc_cases() -> dict[str, tuple[object, list[str]]]:
    """The bad-file kinds every JSON document reader shares."""
    return {
        "non_utf8": (b'{"data": [],\n "x": "caf\xe9"}', ["{path}:2", "not UTF-8"]),
        "empty": (b"", ["{path}", "empty"]),
        "truncated_json": ('{"data": [\n  {"title": ', ["{path}:2", "not valid JSON"]),
        "directory": (DIR, ["{path}"]),
        "missing": (MISSING, ["{path}", "does not exist"]),
    }


MMLU_ROW = {"question": "q", "answer_a": "a", "answer_b": "b", "answer_c": "c", "answer_d": "d", "correct_answer": "A",
            "topic": "anatomy"}
LBV2_ROW = {"_id": "x", "domain": "d", "sub_domain": "s", "difficulty": "easy", "length": "short", "question": "q",
            "choice_A": "a", "choice_B": "b", "choice_C": "c", "choice_D": "d", "answer": "A", "context": "text"}
CHAT = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
SEEDS_CONFIG = "seeds: {{narrativeqa: {seeds}}}\n"


def _write_seeds(tmp: Path) -> None:
    (tmp / "good_seeds.jsonl").write_text(json.dumps({"instruction": "i", "answer": "a"}) + "\n")
    (tmp / "good_config.yaml").write_text(SEEDS_CONFIG.format(seeds=tmp / "good_seeds.jsonl"))


def _synth(config: Path, tmp: Path, *more: str) -> list[str]:
    return ["synth", "run", "context_synthesis", "--config", str(config), "--out", str(tmp / "out"),
            "--generator", "tiny-random", *more]


def _seeds_argv(seeds: Path, tmp: Path) -> list[str]:
    (tmp / "config.yaml").write_text(SEEDS_CONFIG.format(seeds=seeds))
    return _synth(tmp / "config.yaml", tmp)


def _corpus_argv(source: Path, tmp: Path) -> list[str]:
    (tmp / "corpus.yaml").write_text(f"- path: {source}\n")
    return _synth(tmp / "good_config.yaml", tmp, "--corpus", str(tmp / "corpus.yaml"))


def _squad_bad() -> dict[str, tuple[object, list[str]]]:
    return {
        **json_doc_cases(),
        "array_not_object": ("[]", ["{path}", "expected an object, got an array"]),
        "missing_keys": ('{"version": "v2.0"}', ["{path}", "missing field 'data'"]),
        "wrong_types": ('{"data": [{"title": "t", "paragraphs": [{"context": "c", "qas": "what?"}]}]}',
                        ["{path}", "data[0].paragraphs[0].qas", "expected an array, got a string"]),
        "answer_not_object": ('{"data": [{"paragraphs": [{"context": "c", "qas": [{"question": "q", "answers": ["x"]}]}]}]}',
                              ["{path}", "answers[0]", "expected an object"]),
        "no_questions": ('{"data": []}', ["{path}", "no answerable questions"]),
    }


def _hotpot_bad() -> dict[str, tuple[object, list[str]]]:
    return {
        **json_doc_cases(),
        "object_not_array": ('{"data": []}', ["{path}", "expected an array, got an object"]),
        "missing_keys": ('[{"question": "q"}]', ["{path}", "[0]", "missing field 'answer'"]),
        "wrong_types": ('[{"question": "q", "answer": "a", "context": [["title", "not a list"]]}]',
                        ["{path}", "context[0]", "[title, [sentence, ...]]"]),
        "answer_a_number": ('[{"question": "q", "answer": 7, "context": []}]', ["{path}", "answer", "expected a string"]),
    }


def _chat_cases_bad() -> dict[str, tuple[object, list[str]]]:
    return {
        **json_doc_cases(),
        "object_not_list": ('{"idx": 1}', ["{path}", "expected an array, got an object"]),
        "string_case": ('["a case"]', ["{path}", "case 0", "expected an object, got a string"]),
        "missing_keys": ('[{"idx": 1, "query": "q"}]', ["{path}", "case 0", "missing field 'prompt'"]),
        "wrong_types": ('[{"idx": "one", "query": "q", "prompt": "p", "answer": "a"}]', ["{path}", "'idx'", "expected a number"]),
        "no_cases": ("[]", ["{path}", "no cases"]),
    }


READERS = [
    Reader("mmlu jsonl", "mmlu.jsonl",
           lambda f, tmp: [*EVAL, "--tasks", "mmlu_anatomy", "--task-args", f"mmlu={f}"],
           {**jsonl_cases(MMLU_ROW, {**MMLU_ROW, "question": ["q"]}, "question"),
            "bad_answer_letter": (json.dumps({**MMLU_ROW, "correct_answer": "E"}), ["{path}:1", "correct_answer 'E'"]),
            "directory": (DIR, ["{path}/test/anatomy_test.csv", "does not exist"])}),
    Reader("mmlu csv", "mmlu/test/anatomy_test.csv",
           lambda f, tmp: [*EVAL, "--tasks", "mmlu_anatomy", "--task-args", f"mmlu={tmp / 'mmlu'}"],
           {"non_utf8": (b"q,a,b,c,d,A\nq\xe9,a,b,c,d,B\n", ["{path}:2", "not UTF-8"]),
            "empty": (b"", ["{path}", "no questions"]),
            "wrong_shape": ("q,a,b,c,d,A\nonly,three,fields\n", ["{path}:2", "got 3 fields"]),
            "directory": (DIR, ["{path}", "directory"]),
            "missing": (MISSING, ["{path}", "does not exist"])},
           setup=lambda tmp: ((tmp / "mmlu" / "dev").mkdir(parents=True),
                              (tmp / "mmlu" / "dev" / "anatomy_dev.csv").write_text("q,a,b,c,d,A\n"))),
    Reader("longbench jsonl", "data/longbench/qasper.jsonl",
           lambda f, tmp: [*EVAL, "--tasks", "longbench_qasper", "--data-dir", str(tmp / "data")],
           jsonl_cases({"context": "c", "input": "q", "answers": ["a"], "length": 3, "all_classes": None},
                       {"context": "c", "input": "q", "answers": {"a": 1}}, "answers", empty="no examples")),
    Reader("longbench-e jsonl", "data/longbench/hotpotqa_e.jsonl",
           lambda f, tmp: [*EVAL, "--tasks", "longbench_e_hotpotqa", "--data-dir", str(tmp / "data")],
           jsonl_cases({"context": "c", "input": "q", "answers": ["a"], "length": 3},
                       {"context": "c", "input": "q", "answers": ["a"], "length": "long"}, "length", empty="no examples")),
    Reader("infinitebench jsonl", "data/infinitebench/passkey.jsonl",
           lambda f, tmp: [*EVAL, "--tasks", "infinitebench_passkey", "--data-dir", str(tmp / "data")],
           jsonl_cases({"id": 0, "context": "c", "input": "q", "answer": ["1"], "options": []},
                       {"id": 0, "context": ["c"], "input": "q", "answer": ["1"]}, "context", empty="no examples")),
    Reader("infinitebench via task arg", "ib/kv_retrieval.jsonl",
           lambda f, tmp: [*EVAL, "--tasks", "infinitebench_kv_retrieval", "--task-args", f"infinitebench={tmp / 'ib'}"],
           jsonl_cases({"id": 0, "context": "c", "input": "q", "answer": "v"},
                       {"id": 0, "context": "c", "input": None, "answer": "v"}, "input", empty="no examples")),
    Reader("gsm8k jsonl", "data/gsm8k/test.jsonl",
           lambda f, tmp: [*EVAL, "--tasks", "gsm8k", "--data-dir", str(tmp / "data")],
           jsonl_cases({"question": "q", "answer": "so #### 4"}, {"question": "q", "answer": 4}, "answer", empty="no examples")),
    Reader("longbench-chat cases", "test_cases.json",
           lambda f, tmp: [*EVAL, "--tasks", "longbench_chat", "--task-args", f"longbench_chat={f}"],
           _chat_cases_bad()),
    Reader("longbench_v2 data.json", "data/longbench_v2/data.json",
           lambda f, tmp: [*EVAL, "--tasks", "longbench_v2", "--data-dir", str(tmp / "data")],
           {**json_doc_cases(),
            "object_not_list": ('{"_id": "x"}', ["{path}", "expected an array, got an object"]),
            "missing_keys": ('[{"_id": "x"}]', ["{path} question 0", "missing field 'domain'"]),
            "wrong_types": (json.dumps([{**LBV2_ROW, "choice_A": 1}]), ["{path} question 0", "'choice_A'", "expected a string"]),
            "bad_answer": (json.dumps([LBV2_ROW, {**LBV2_ROW, "answer": "E"}]), ["{path} question 1", "'answer' is 'E'"]),
            "no_questions": ("[]", ["{path}", "no questions"])}),
    Reader("ruler qa_1 squad json", "squad.json",
           lambda f, tmp: [*EVAL, "--tasks", "qa_1", "--task-args", f"data={f}"], _squad_bad()),
    Reader("ruler qa_2 hotpotqa json", "data/hotpotqa.json",
           lambda f, tmp: [*EVAL, "--tasks", "qa_2", "--data-dir", str(tmp / "data")],
           {kind: case for kind, case in _hotpot_bad().items() if kind != "missing"}),  # missing there: the hub's copy
    Reader("ruler qa_2 hotpotqa via task arg", "hotpot.json",
           lambda f, tmp: [*EVAL, "--tasks", "qa_2", "--task-args", f"data={f}"],
           {kind: case for kind, case in _hotpot_bad().items() if kind in ("missing", "directory", "wrong_types")}),
    Reader("essay haystack (classic niah)", "essays/b.txt",
           lambda f, tmp: [*EVAL, "--tasks", "niah", "--task-args", f"haystack_dir={tmp / 'essays'}"],
           {"non_utf8": (b"An essay.\nIt says caf\xe9.\n", ["{path}:2", "not UTF-8"]),
            "no_text": (b"  \n", [str(Path("essays")), "hold no text"]),
            "directory": (DIR, ["{path}", "directory"])},
           setup=lambda tmp: (tmp / "essays").mkdir()),
    Reader("essay haystack (ruler niah)", "data/pg_essays/a.txt",
           lambda f, tmp: [*EVAL, "--tasks", "niah_single_2", "--data-dir", str(tmp / "data")],
           {"non_utf8": (b"caf\xe9", ["{path}:1", "not UTF-8"]),
            "missing": (MISSING, ["pg_essays", "no .txt files"])},
           setup=lambda tmp: (tmp / "data" / "pg_essays").mkdir(parents=True)),
    Reader("essay haystack dir given as a file", "essays.txt",
           lambda f, tmp: [*EVAL, "--tasks", "niah_multikey_1", "--task-args", f"haystack_dir={f}"],
           {"file_not_dir": ("An essay.\n", ["{path}", "not a directory"]),
            "missing": (MISSING, ["{path}", "does not exist"])}),
    Reader("training data jsonl", "train.jsonl",
           lambda f, tmp: ["train", "--model", "tiny-random", "--data", str(f), "--stages", "64:1", "--output", str(tmp / "out")],
           {**jsonl_cases(CHAT, {"messages": "hello"}, "messages", missing="needs 'messages'", empty="no records",
                          directory="data.jsonl"),
            "message_without_role": (json.dumps(CHAT) + "\n" + json.dumps({"messages": [{"content": "hi"}]}) + "\n",
                                     ["{path}:2", "messages[0]", "missing field 'role'"]),
            "message_a_string": (json.dumps({"messages": ["hi", "there"]}) + "\n", ["{path}:1", "messages[0]", "expected an object"]),
            "content_a_list": (json.dumps({"messages": [{"role": "assistant", "content": ["a"]}]}), ["{path}:1", "content"]),
            "no_assistant": (json.dumps({"messages": [{"role": "user", "content": "hi"}]}), ["{path}:1", "assistant"]),
            "prompt_a_number": (json.dumps({"prompt": 3, "completion": "x"}), ["{path}:1", "'prompt'", "expected a string"]),
            "completion_missing": (json.dumps({"prompt": "p"}), ["{path}:1", "'completion'"])}),
    Reader("training data (synth output dir)", "synth/data.jsonl",
           lambda f, tmp: ["train", "--model", "tiny-random", "--data", str(tmp / "synth"), "--stages", "64:1",
                           "--output", str(tmp / "out")],
           {"non_utf8": (b"{\"messages\": \"caf\xe9\"}\n", ["{path}:1", "not UTF-8"]),
            "wrong_types": (json.dumps({"messages": "hello"}), ["{path}:1", "'messages'"]),
            "missing": (MISSING, [str(Path("synth")), "data.jsonl"])},
           setup=lambda tmp: (tmp / "synth").mkdir()),
    Reader("synth config yaml", "config.yaml", lambda f, tmp: _synth(f, tmp),
           {**yaml_cases("distractors: many\n", "'distractors'", "", "seeds", "seedz: {}\n"),
            "seeds_wrong_type": ("seeds: [a, b]\n", ["{path}", "'seeds'"])}),
    Reader("synth config json", "config.json", lambda f, tmp: _synth(f, tmp),
           {"truncated_json": ('{"seeds": {', ["{path}:1", "not valid JSON"]),
            "list_not_mapping": ("[1, 2]", ["{path}", "expected a mapping", "got an array"]),
            "wrong_type": ('{"distractors": "9"}', ["{path}", "'distractors'"])}),
    Reader("context_synthesis seeds", "seeds.jsonl",
           _seeds_argv,
           jsonl_cases({"instruction": "i", "answer": "a"}, {"instruction": ["i"], "answer": "a"}, "instruction",
                       missing="needs 'instruction' and 'answer'", empty="no seeds")),
    Reader("corpus yaml", "corpus.yaml", lambda f, tmp: _synth(tmp / "good_config.yaml", tmp, "--corpus", str(f)),
           {"non_utf8": (b"- path: docs\n  kind: caf\xe9\n", ["{path}:2", "not UTF-8"]),
            "broken_yaml": ("- path: [docs\n", ["{path}", "not valid YAML"]),
            "mapping_not_list": ("path: docs\n", ["{path}", "expected an array, got an object"]),
            "entry_not_mapping": ("- docs/a.txt\n", ["{path}", "source 0", "expected an object, got a string"]),
            "unknown_field": ("- paht: docs\n", ["{path}", "unknown field 'paht'"]),
            "wrong_type": ("- path: docs\n  limit: many\n", ["{path}", "'limit'", "expected a number"]),
            "negative_limit": ("- path: docs\n  limit: -1\n", ["{path}", "limit"]),
            "no_source_kind": ("- kind: note\n", ["{path}", "source 0", "path, dataset or builtin"]),
            "unknown_builtin": ("- builtin: plays\n", ["{path}", "source 0", "'plays'"]),
            "directory": (DIR, ["{path}", "directory"]),
            "missing": (MISSING, ["{path}", "does not exist"])},
           setup=_write_seeds),
    Reader("corpus documents", "docs/b.jsonl",
           lambda f, tmp: _corpus_argv(tmp / "docs", tmp),
           {"non_utf8": (b'{"text": "caf\xe9"}\n', ["{path}:1", "not UTF-8"]),
            "truncated_json": ('{"text": "a"}\n{"text": ', ["{path}:2", "not valid JSON"]),
            "list_not_object": ('["a"]\n', ["{path}:1", "expected a JSON object"]),
            "missing_keys": ('{"body": "a"}\n', ["{path}:1", "'text'"])},
           setup=lambda tmp: (_write_seeds(tmp), (tmp / "docs").mkdir(), (tmp / "docs" / "a.txt").write_text("A doc."))),
    Reader("corpus text document", "docs/a.txt",
           _corpus_argv,
           {"non_utf8": (b"A play.\nAct caf\xe9\n", ["{path}:2", "not UTF-8"]),
            "missing": (MISSING, ["{path}", "does not exist"])},
           setup=lambda tmp: (_write_seeds(tmp), (tmp / "docs").mkdir())),
    Reader("sweep yaml", "sweep.yaml", lambda f, tmp: ["sweep", str(f), "--output", str(tmp / "sweep")],
           {**yaml_cases("name: s\nbase_model: tiny\nvariants: many\neval: {tasks: [niah_single_1], lengths: [512]}\n",
                         "'variants'", "name: s\n", "'base_model' is required", "name: s\nbase_modle: tiny\n"),
            "empty": ("", ["{path}", "is required"]),
            "variant_not_mapping": ("name: s\nbase_model: tiny\nvariants: [control]\neval: {tasks: [a], lengths: [512]}\n",
                                    ["{path}", "variants[0]", "expected a mapping"])}),
    Reader("board yaml", "board.yaml", lambda f, tmp: ["leaderboard", "build", str(f), "--output", str(tmp / "board")],
           {**yaml_cases("name: b\nsweep: s\ncolumns: [{task: a}]\nalpha: high\n", "alpha", "name: b\n",
                         "'sweep' is required", "name: b\nsweep: s\ncolumns: [a]\ncolour: red\n"),
            "columns_not_list": ("name: b\nsweep: s\ncolumns: niah\n", ["{path}", "'columns'"])}),
]

FILE_CASES = [pytest.param(reader, kind, id=f"{reader.name}-{kind}") for reader in READERS for kind in reader.cases]


@pytest.fixture(autouse=True)
def _no_ambient_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HARNESS_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)  # anything a case writes by default lands here


@pytest.mark.parametrize("reader,kind", FILE_CASES)
def test_a_bad_file_is_one_error_line_naming_it(reader: Reader, kind: str, tmp_path: Path, tiny_path: Path,
                                               capfd: pytest.CaptureFixture[str]) -> None:
    content, expected = reader.cases[kind]
    reader.setup(tmp_path)
    path = tmp_path / reader.file
    path.parent.mkdir(parents=True, exist_ok=True)
    if content == DIR:
        path.mkdir()
    elif content != MISSING:
        path.write_bytes(content if isinstance(content, bytes) else str(content).encode())
    code, out, err = run_cli(reader.argv(path, tmp_path), capfd)
    assert_one_error_line(code, out, err, [e.format(path=path) for e in expected])
    assert not (tmp_path / "out" / "manifest.json").exists()  # nothing claimed (train) or written (synth) for bad input


def test_every_reader_covers_the_common_kinds() -> None:
    """The table is not thinned out by accident: each JSONL reader meets every kind of bad line."""
    jsonl = [r for r in READERS if "string_not_object" in r.cases]  # built by jsonl_cases
    assert len(jsonl) >= 7
    for reader in jsonl:
        assert {"non_utf8", "empty", "truncated_json", "list_not_object", "missing_keys", "wrong_types", "directory",
                "missing"} <= set(reader.cases), reader.name


# -- the arguments ------------------------------------------------------------------------------

def _train(*flags: str) -> list[str]:
    return ["train", "--model", "tiny-random", "--data", "train.jsonl", "--stages", "64:1", "--output", "out", *flags]


def _cuda_devices() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


ARGUMENT_CASES = [
    # --model-args (the hf backend checks them before loading anything)
    ([*EVAL, "--tasks", "niah_single_1", "--model-args", "dtype=float99"], ["dtype=float99", "bfloat16"]),
    ([*EVAL, "--tasks", "niah_single_1", "--model-args", "dtype=int8"], ["dtype=int8"]),
    ([*EVAL, "--tasks", "niah_single_1", "--model-args", "device=gpu"], ["device=gpu", "cuda:N"]),
    ([*EVAL, "--tasks", "niah_single_1", "--model-args", "device=cuda:x"], ["device=cuda:x"]),
    ([*EVAL, "--tasks", "niah_single_1", "--model-args", "max_length=long"], ["max_length", "'long'"]),
    ([*EVAL, "--tasks", "niah_single_1", "--model-args", "trust_remote_code=yes"], ["trust_remote_code", "'yes'"]),
    ([*EVAL, "--tasks", "niah_single_1", "--model-args", "dtype"], ["--model-args", "'dtype'"]),
    ([*EVAL, "--tasks", "niah_single_1", "--model-args", "dtypo=float32"], ["'dtypo'"]),
    # --lengths, --limit, --depths
    (["eval", "--model", "tiny-random", "--tasks", "niah_single_1", "--lengths", "4q"], ["'4q'"]),
    (["eval", "--model", "tiny-random", "--tasks", "niah_single_1", "--lengths", "0"], ["'0'", "positive"]),
    (["eval", "--model", "tiny-random", "--tasks", "niah_single_1", "--lengths=-1k"], ["'-1k'"]),
    (["eval", "--model", "tiny-random", "--tasks", "niah_single_1", "--lengths", "max,abc"], ["'abc'"]),
    (["eval", "--model", "tiny-random", "--tasks", "niah_single_1", "--lengths", ","], ["--lengths"]),
    ([*EVAL, "--tasks", "niah_single_1", "--limit=-1"], ["--limit", "-1"]),
    ([*EVAL, "--tasks", "niah", "--depths", "10,deep"], ["'deep'"]),
    # --task-args
    ([*EVAL, "--tasks", "niah_single_1", "--task-args", "haystack"], ["--task-args", "'haystack'"]),
    ([*EVAL, "--tasks", "niah_single_1", "--task-args", "a=1,a=2"], ["--task-args", "'a'"]),
    ([*EVAL, "--tasks", "niah_single_1", "--task-args", "=x"], ["--task-args", "'=x'"]),
    ([*EVAL, "--tasks", "niah", "--task-args", "depths=10;deep"], ["depths", "'deep'"]),
    ([*EVAL, "--tasks", "niah", "--task-args", "depth_steps=many"], ["depth_steps", "'many'"]),
    ([*EVAL, "--tasks", "mmlu_anatomy", "--task-args", "num_fewshot=few"], ["num_fewshot", "'few'"]),
    ([*EVAL, "--tasks", "longbench_qasper", "--task-args", "truncate=sideways"], ["sideways"]),
    # train: --lora, --rope, --stages and the numbers of the spec
    (_train("--lora", "r=abc"), ["--lora r=", "'abc'"]),
    (_train("--lora", "r=0"), ["--lora r=0"]),
    (_train("--lora", "alpha=1.5"), ["--lora alpha=1.5"]),
    (_train("--lora", "dropout=2"), ["--lora dropout=2"]),
    (_train("--lora", "dropout=x"), ["--lora dropout='x'"]),
    (_train("--lora", "r"), ["--lora", "'r'"]),
    (_train("--lora", "rank=8"), ["--lora", "rank"]),
    (_train("--rope", "yarn:abc"), ["--rope", "'abc'"]),
    (_train("--rope", "warp:2"), ["--rope", "'warp:2'"]),
    (_train("--rope", "yarn:nan"), ["--rope", "'yarn:nan'"]),
    (_train("--rope", "yarn:0.5"), ["--rope", "'yarn:0.5'"]),
    (_train("--rope", "yarn"), ["--rope", "'yarn'"]),
    (["train", "--model", "tiny-random", "--data", "train.jsonl", "--stages", "8k", "--output", "out"], ["--stages", "'8k'"]),
    (["train", "--model", "tiny-random", "--data", "train.jsonl", "--stages", "8k:x", "--output", "out"], ["--stages", "'8k:x'"]),
    (["train", "--model", "tiny-random", "--data", "train.jsonl", "--stages", "abc:10", "--output", "out"], ["--stages", "'abc:10'"]),
    (["train", "--model", "tiny-random", "--data", "train.jsonl", "--stages", "8k:10:nan", "--output", "out"], ["--stages", "THETA"]),
    (["train", "--model", "tiny-random", "--data", "train.jsonl", "--stages", "8k:0", "--output", "out"], ["--stages", "'8k:0'"]),
    (["train", "--model", "tiny-random", "--data", "train.jsonl", "--stages", "8k:10,4k:10", "--output", "out"], ["--stages", "decrease"]),
    (["train", "--model", "tiny-random", "--data", "train.jsonl", "--stages", ",", "--output", "out"], ["--stages"]),
    (_train("--lr=-1"), ["--lr", "-1"]),
    (_train("--lr", "nan"), ["--lr", "nan"]),
    (_train("--warmup-ratio", "2"), ["--warmup-ratio", "2"]),
    (_train("--grad-accum", "0"), ["--grad-accum", "0"]),
    (_train("--save-steps", "0"), ["--save-steps", "0"]),
    (_train("--batch-size", "0"), ["--batch-size", "0"]),
    (_train("--loss-norm", "mean"), ["--loss-norm", "'mean'"]),
    (["train", "--model", "tiny-random", "--data", "nowhere/train.jsonl", "--stages", "64:1", "--output", "out"],
     ["nowhere/train.jsonl", "does not exist"]),
]


@pytest.mark.parametrize("argv,expected", [pytest.param(a, e, id=" ".join(a[4:] if a[0] == "eval" else a[-2:])) for a, e in ARGUMENT_CASES])
def test_a_bad_argument_is_one_error_line_naming_it(argv: list[str], expected: list[str], tmp_path: Path, tiny_path: Path,
                                                    capfd: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "train.jsonl").write_text(json.dumps(CHAT) + "\n")
    code, out, err = run_cli(argv, capfd)
    assert_one_error_line(code, out, err, expected)


def test_a_cuda_device_this_machine_lacks_is_refused(tiny_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """`device=cuda:N` past the machine's devices (all of them, without CUDA) names the device and what there is."""
    index = _cuda_devices() + 1
    code, out, err = run_cli([*EVAL, "--tasks", "niah_single_1", "--model-args", f"device=cuda:{index}"], capfd)
    assert_one_error_line(code, out, err, [f"device=cuda:{index}", "no CUDA device" if _cuda_devices() == 0 else "CUDA device(s)"])
    if _cuda_devices() == 0:
        code, out, err = run_cli([*EVAL, "--tasks", "niah_single_1", "--model-args", "device=cuda"], capfd)
        assert_one_error_line(code, out, err, ["device=cuda", "use device=cpu"])


def test_data_errors_come_before_the_model_loads(tmp_path: Path, tiny_path: Path, capfd: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A bad data file is reported without loading the evaluated model (no backend is built)."""
    import harness.core.backends as backends

    def no_loading(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was loaded before the data was checked")

    monkeypatch.setattr(backends, "load_backend", no_loading)
    bad = tmp_path / "data" / "gsm8k" / "test.jsonl"
    bad.parent.mkdir(parents=True)
    bad.write_text('{"question": "q"}\n')
    code, out, err = run_cli([*EVAL, "--tasks", "gsm8k", "--data-dir", str(tmp_path / "data")], capfd)
    assert_one_error_line(code, out, err, [f"{bad}:1", "missing field 'answer'"])
