"""WildLong with a scripted generator: meta-information parsing, type clustering, graphs and walks,
the two stages end to end, determinism, kill and resume, config errors."""

import json
import math
import random
import re
from pathlib import Path

import pytest

from harness.core.errors import HarnessError
from harness.synth.corpus import Document
from harness.synth.llm import Generator, ParseError
from harness.synth.plugin import get_plugin, load_config
from harness.synth.run import run_plugin
from harness.synth.wildlong.doctypes import cluster_types
from harness.synth.wildlong.graph import build_graph, graph_stats, random_walk
from harness.synth.wildlong.meta import parse_meta
from harness.synth.wildlong.plugin import WildLong, parse_choice, parse_instruction
from tests.fakes import ScriptedBackend

QUERIES = Path(__file__).resolve().parents[2] / "synth" / "wildlong" / "examples" / "queries.jsonl"
KINDS = [("macbeth|hamlet|othello|romeo|midsummer", "play"), ("essay", "essay"), ("paper|article|study", "research paper"),
         ("contract|agreement|license", "legal contract")]


def scripted(request) -> str:
    """A deterministic stand-in for the generator, answering each WildLong prompt by its shape."""
    text = request.text
    if "<request>" in text:
        query = re.search(r"<request>\n(.*?)\n</request>", text, re.S).group(1).lower()
        if "washing machine" in query:
            return "I am not sure what you mean."  # never parses: dropped after the re-asks
        kind = next((k for pattern, k in KINDS if re.search(pattern, query)), "report")
        task = "summarize" if "summar" in query else "list" if "list" in query else "explain"
        profile = "student" if "class" in query or "exam" in query else "professional"
        shape = "table" if "table" in query else "bullet points" if "bullet" in query else "prose"
        meta = {"document_type": kind.title(), "task_request": [task, "none"], "user_profile": profile, "output_format": shape, "domain": None}
        return "Here it is:\n```json\n" + json.dumps(meta) + "\n```"
    if "Which type of document" in text:
        options = dict((label, number) for number, label in re.findall(r"^(\d+)\. (.+)$", text, re.M))
        return options["play"] if "SCENE" in text else options["essay"]
    if "Write one realistic request" in text:
        values = re.findall(r"^- [a-z ]+: (.+)$", text, re.M)
        return "Instruction: please " + " and ".join(values) + " for the document."
    if "Rewrite the request" in text:
        draft = re.search(r"Request: (.*)\n", text).group(1)
        titles = re.findall(r"TITLE (\w+)", text)
        return f"Instruction: {draft} Focus on {' versus '.join(titles)}."
    first = re.search(r"TITLE (\w+)", text).group(1)
    return f"The document {first} answers it."


def corpus() -> list[Document]:
    plays = [Document(f"p{i}", f"TITLE Play{i}\nACT I. SCENE I. A heath.\n" + "Thunder and lightning. " * 50, "play", "t") for i in range(3)]
    essays = [Document(f"e{i}", f"TITLE Essay{i}\nHow to start a startup.\n" + "Ideas matter. " * 50, "essay", "t") for i in range(2)]
    return plays + essays


def _run(tmp_path, tokenizer, config: dict, out: str = "out", backend=None):
    cfg = load_config(WildLong.Config, {"queries": str(QUERIES), "document_types": 5, "instructions": 8, "multi_document": 0.5,
                                        "tries": 2, **config}, "test config")
    gen = Generator(backend or ScriptedBackend(tokenizer, answer=scripted), "scripted", tmp_path / out / "llm_cache.sqlite")
    return run_plugin(WildLong(), cfg, gen, corpus(), tmp_path / out, seed=3)


def test_meta_is_read_from_json_or_field_lines() -> None:
    fields = ["document_type", "task_request", "domain"]
    assert parse_meta('ok ```json\n{"document_type": "Research Paper.", "task_request": ["Summarize", "none"], "x": 1}```', fields) == \
        {"document_type": ["research paper"], "task_request": ["summarize"]}
    assert parse_meta("Document type: legal contract\nTask request: find clauses; list risks", fields) == \
        {"document_type": ["legal contract"], "task_request": ["find clauses", "list risks"]}
    with pytest.raises(ParseError, match="'document_type' is a required property"):
        parse_meta('{"task_request": "x"}', fields)
    with pytest.raises(ParseError, match="document type is empty"):
        parse_meta('{"document_type": "none"}', fields)


def test_document_types_cluster_by_meaning_and_take_the_commonest_name() -> None:
    mentions = ["research paper", "research paper", "scientific research article", "legal contract", "rental contract",
                "contract", "contract"]
    clusters = cluster_types(mentions, k=2)
    assert clusters.members == {"contract": ["contract", "legal contract", "rental contract"],
                                "research paper": ["research paper", "scientific research article"]}
    assert clusters.label_of["rental contract"] == "contract"
    assert cluster_types(["a", "b"], k=10).members == {"a": ["a"], "b": ["b"]}  # k is at most the distinct count


def test_graph_weights_are_log_scaled_co_occurrence_and_walks_follow_them() -> None:
    metas = [{"task": ["summarize"], "profile": ["student"]}] * 3 + [{"task": ["summarize"], "format": ["table"]}]
    graph = build_graph(metas)
    assert graph.nodes["task: summarize"]["count"] == 4
    assert graph.edges["task: summarize", "profile: student"]["weight"] == pytest.approx(math.log(4))
    assert graph.edges["task: summarize", "format: table"]["count"] == 1
    walks = [random_walk(graph, 3, random.Random(s)) for s in range(200)]
    assert all(len(w) == len(set(w)) for w in walks)
    second = [w[1] for w in walks if w[0] == "task: summarize"]
    share = second.count("profile: student") / len(second)
    assert 0.55 < share < 0.8  # log 4 : log 2 = 2 : 1
    flat = [random_walk(graph, 2, random.Random(s), weighted=False) for s in range(300)]
    assert abs(sum(w[0] == "task: summarize" for w in flat) / 300 - 1 / 3) < 0.08  # uniform start
    assert random_walk(graph, 3, random.Random(7)) == random_walk(graph, 3, random.Random(7))
    stats = graph_stats(graph)
    assert (stats["nodes"], stats["edges"], stats["degree"]["max"], stats["components"]) == (3, 2, 2, 1)
    assert stats["degree_histogram"] == [0, 2, 1] and stats["communities"] >= 1


def test_parsers_of_instructions_and_types() -> None:
    assert parse_instruction('Sure!\nInstruction: "Summarize the document."') == "Summarize the document."
    with pytest.raises(ParseError):
        parse_instruction("Instruction: ok")
    assert parse_choice("2.", ["play", "essay"]) == "essay" and parse_choice("It is a play", ["play", "essay"]) == "play"
    with pytest.raises(ParseError):
        parse_choice("7", ["play", "essay"])


def test_two_stages_end_to_end(tokenizer, tmp_path) -> None:
    stats = _run(tmp_path, tokenizer, {})
    records = [json.loads(line) for line in (tmp_path / "out" / "data.jsonl").read_text().splitlines()]
    assert get_plugin("wildlong") is WildLong
    assert stats["records"] == len(records) == 8
    assert stats["dropped"] == {"meta-information unreadable: no JSON object in the reply": 1}  # the washing machine query
    plugin = stats["plugin"]
    assert plugin["queries"] == 27  # 28 English single-turn queries, one unreadable
    assert {"play", "essay"} <= set(plugin["document_types"])
    assert plugin["document_types"]["play"]["documents"] == 3 and plugin["document_types"]["essay"]["documents"] == 2
    for record in records:
        meta = record["meta"]
        user, answer = record["messages"][0]["content"], record["messages"][1]["content"]
        assert meta["document_type"] in ("play", "essay") and 1 <= len(meta["path"]) <= 6
        fields = meta["path_fields"]  # the scripted queries have three fields: new fields first
        assert len(set(fields[:3])) == min(3, len(fields))
        assert user.endswith(meta["instruction"]) and meta["instruction"].startswith("please ")
        assert answer.startswith("The document ")
        kinds = {"play": "Play", "essay": "Essay"}[meta["document_type"]]
        if meta["mode"] == "single":
            assert user.startswith("Document:\nTITLE " + kinds) and len(meta["documents"]) == 1
        else:
            assert user.startswith("Document 1:\nTITLE " + kinds) and "Document 2:" in user and " versus " in meta["instruction"]
    assert {r["meta"]["mode"] for r in records} >= {"single"} and len({r["meta"]["mode"] for r in records}) >= 2
    assert plugin["graphs"]["play"]["nodes"] > 0 and "modularity" in plugin["graphs"]["play"]
    assert stats["embedding_dispersion_instruction"] > 0 and stats["instructions"] == 8
    assert WildLong.output_stats(tmp_path / "out")["graphs"] == plugin["graphs"]
    assert len((tmp_path / "out" / "work" / "meta.jsonl").read_text().splitlines()) == 27


def test_same_seed_same_bytes_and_kill_resumes_without_asking_again(tokenizer, tmp_path) -> None:
    _run(tmp_path, tokenizer, {}, "clean")
    killed = ScriptedBackend(tokenizer, answer=scripted, fail_after_batches=20)
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, tokenizer, {}, "killed", killed)
    stats = _run(tmp_path, tokenizer, {}, "killed")
    assert (tmp_path / "killed" / "data.jsonl").read_bytes() == (tmp_path / "clean" / "data.jsonl").read_bytes()
    clean = json.loads((tmp_path / "clean" / "stats.json").read_text())
    # the calls of the 20 batches finished before the kill are not asked again
    assert 30 < len(killed.requests) < clean["llm_calls"] and stats["llm_calls"] == clean["llm_calls"] - len(killed.requests)
    assert stats["llm_calls"] + stats["llm_cache_hits"] == clean["llm_calls"] + clean["llm_cache_hits"]


def test_ablation_flags_change_the_walks(tokenizer, tmp_path) -> None:
    short = _run(tmp_path, tokenizer, {"path_length": 2, "multi_document": 0.0}, "short")
    records = [json.loads(line) for line in (tmp_path / "short" / "data.jsonl").read_text().splitlines()]
    assert all(len(r["meta"]["path"]) <= 2 and r["meta"]["mode"] == "single" for r in records)
    assert short["plugin"]["paths"]["modes"] == {"single": 8}
    typed = _run(tmp_path, tokenizer, {"document_typing": "embedding", "weighted": False}, "typed")
    assert typed["records"] > 0


@pytest.mark.parametrize(("config", "message"), [
    ({"path_length": 1}, "path_length = 1 must be >= 2"),
    ({"multi_document": 2}, "multi_document = 2 must be a share"),
    ({"fields": {"task": "what"}}, "'document_type' is required"),
    ({"document_typing": "magic"}, "document_typing = 'magic'"),
    ({"walk": 3}, "unknown field 'walk'"),
])
def test_config_errors_name_the_field(config, message) -> None:
    with pytest.raises(HarnessError, match=re.escape(message)):
        load_config(WildLong.Config, {"queries": "q.jsonl", **config}, "wildlong.yaml")
    with pytest.raises(HarnessError, match="give `queries`"):
        load_config(WildLong.Config, {}, "wildlong.yaml")
