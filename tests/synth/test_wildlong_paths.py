"""WildLong's path sampling alone: walks over a fixed meta-information set, their diversity (no model), and an
instruction per path from a scripted generator."""

import json
import random
import re
from pathlib import Path

import pytest

from harness.core.errors import HarnessError
from harness.synth.llm import Generator
from harness.synth.plugin import get_plugin, load_config
from harness.synth.run import run_plugin
from harness.synth.wildlong.graph import build_graph
from harness.synth.wildlong.paths import WildLongPaths, path_diversity
from tests.fakes import ScriptedBackend

FIELDS = {"task_request": ["summarize", "compare", "list", "explain", "extract"],
          "output_format": ["table", "bullet points", "prose", "JSON"],
          "user_profile": ["student", "lawyer", "engineer"],
          "domain": ["law", "medicine", "finance", "literature"]}


def write_metas(path: Path, count: int = 40, seed: int = 1) -> Path:
    rng = random.Random(seed)
    lines = []
    for i in range(count):
        meta = {"document_type": [rng.choice(["contract", "report"])]}
        meta.update({field: [rng.choice(values[: 2 + i % len(values)])] for field, values in FIELDS.items()})
        lines.append(json.dumps({"query": f"query {i}", "meta": meta}))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_diversity_counts_combinations_fields_coverage_and_entropy() -> None:
    graph = build_graph([{"a": ["1"], "b": ["2"]}, {"a": ["1"], "b": ["3"]}])  # a:1 joined to b:2 and b:3
    walks = [("t", ["a: 1", "b: 2"]), ("t", ["b: 2", "a: 1"]), ("t", ["a: 1", "b: 3"])]
    found = path_diversity(walks, {"t": graph})
    assert found["distinct"] == round(2 / 3, 4)  # the second walk names the first's nodes
    assert found["nodes"] == 2 and found["fields"] == 2 and found["field_share"] == 1.0
    assert found["node_coverage"] == 1.0 and found["pair_coverage"] == 1.0
    visits = [3, 2, 1]  # a:1, b:2, b:3
    import math
    entropy = -sum(v / 6 * math.log2(v / 6) for v in visits) / math.log2(3)
    assert found["entropy"] == round(entropy, 4)


def _run(tmp_path: Path, out: str, tokenizer=None, **settings):  # type: ignore[no-untyped-def]
    config = load_config(WildLongPaths.Config, {"meta": str(write_metas(tmp_path / "meta.jsonl")), "document_types": 2,
                                                "paths": 60, **settings}, "paths.yaml")
    generator = None
    if tokenizer is not None:
        def answer(request) -> str:  # type: ignore[no-untyped-def]
            values = re.findall(r"^- [a-z ]+: (.+)$", request.text, re.M)
            return "Instruction: please " + " and ".join(values) + " for the document."
        generator = Generator(ScriptedBackend(tokenizer, answer=answer), "scripted", tmp_path / out / "llm_cache.sqlite")
    return run_plugin(WildLongPaths(), config, generator, [], tmp_path / out, seed=3)


def test_walk_statistics_without_a_model_and_the_ablation_flags_change_them(tmp_path) -> None:
    assert get_plugin("wildlong_paths") is WildLongPaths
    stats = {(n, w): _run(tmp_path, f"{n}-{w}", path_length=n, weighted=w)["plugin"]["paths"]
             for n in (2, 4) for w in (True, False)}
    assert all(s["paths"] == 60 for s in stats.values())
    assert stats[(4, True)]["nodes"] > stats[(2, True)]["nodes"] == 2  # longer walks name more
    assert stats[(4, True)]["distinct"] >= stats[(2, True)]["distinct"]  # and repeat fewer combinations
    assert stats[(4, False)] != stats[(4, True)]
    again = _run(tmp_path, "again", path_length=4, weighted=True)["plugin"]["paths"]
    assert again == stats[(4, True)]  # the same seed, the same walks
    assert len((tmp_path / "4-True" / "work" / "paths.jsonl").read_text().splitlines()) == 60
    assert not (tmp_path / "4-True" / "data.jsonl").read_text()  # no instructions asked: no records


def test_instructions_are_written_for_the_first_paths(tokenizer, tmp_path) -> None:
    stats = _run(tmp_path, "written", tokenizer, path_length=4, instructions=5)
    records = [json.loads(line) for line in (tmp_path / "written" / "data.jsonl").read_text().splitlines()]
    walks = [json.loads(line) for line in (tmp_path / "written" / "work" / "paths.jsonl").read_text().splitlines()]
    assert stats["records"] == 5 and stats["instructions"] == 5
    for record, walk in zip(records, walks):
        assert record["meta"]["path"] == walk["path"] and record["meta"]["instruction"].startswith("please ")
        assert record["messages"][1]["content"] == record["meta"]["instruction"]
    assert stats["distinct_2_instruction"] > 0


@pytest.mark.parametrize(("settings", "message"), [
    ({"meta": ""}, "meta: name the meta-information file"),
    ({"path_length": 1}, "path_length = 1 must be >= 2"),
    ({"paths": 3, "instructions": 4}, r"instructions = 4 must lie between 0 and paths \(3\)"),
])
def test_config_errors_name_the_field(settings, message, tmp_path) -> None:
    with pytest.raises(HarnessError, match=message):
        load_config(WildLongPaths.Config, {"meta": "m.jsonl", **settings}, "paths.yaml")


def test_a_meta_file_without_types_is_refused_with_its_line(tmp_path) -> None:
    bad = tmp_path / "meta.jsonl"
    bad.write_text(json.dumps({"query": "q", "meta": {"domain": ["law"]}}) + "\n")
    config = load_config(WildLongPaths.Config, {"meta": str(bad)}, "paths.yaml")
    with pytest.raises(HarnessError, match=r"meta.jsonl: line 1: 'meta' has no 'document_type'"):
        WildLongPaths().check(config, [])
