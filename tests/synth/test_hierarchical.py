"""Hierarchical QA with a scripted generator: chunking, question plans, summaries up the hierarchy,
multi-document conversations, a million-word record, kill and resume, config errors."""

import json
import random
import re

import pytest

from harness.core.errors import HarnessError
from harness.synth.corpus import Document
from harness.synth.hierarchical.chunks import build_tree, split_small
from harness.synth.hierarchical.plan import hierarchical, record_plan
from harness.synth.hierarchical.plugin import Hierarchical, parse_qa
from harness.synth.llm import Generator, ParseError
from harness.synth.plugin import get_plugin, load_config
from harness.synth.run import run_plugin
from tests.fakes import ScriptedBackend


def scripted(request) -> str:
    """Summaries name the first word of what they summarise; answers quote the material."""
    text = request.text
    if "<text>" in text:
        return "Summary: S" + re.search(r"<text>\n(\S+)", text).group(1)
    if "Here are summaries" in text:
        return "M(" + "+".join(re.findall(r"Part \d+: (\S+)", text)) + ")"
    if "<section summary>" in text:
        section = re.search(r"<section summary>\n(.*?)\n</section summary>", text, re.S).group(1)
        return json.dumps({"question": "What happens in this section?", "answer": section})
    if "<summary>" in text:
        return 'Sure: {"question": "What is the document about?", "answer": "' + re.search(r"<summary>\n(.*?)\n", text).group(1) + '"}'
    if "<passage 1>" in text:
        first, second = re.findall(r"<passage \d>\n(\S+)", text)
        return f"Question: How do the two passages connect?\nAnswer: {first} and {second}"
    if "<passage>" in text:
        return json.dumps({"question": "Which word opens the passage?", "answer": re.search(r"<passage>\n(\S+)", text).group(1)})
    raise AssertionError(text[:200])


def doc(name: str, words: int) -> Document:
    return Document(name, " ".join(f"{name}w{i}" for i in range(words)), "text", "test")


def _run(tmp_path, config: dict, docs: list[Document], out: str = "out", backend=None):
    cfg = load_config(Hierarchical.Config, {"small_chunk_tokens": 100, "small_per_medium": 2, "hierarchical_questions": 3,
                                            "diverse_questions": 2, "revisit_questions": 2, "revisit_probability": 1.0,
                                            "target_tokens": 700, **config}, "test config")
    gen = Generator(backend or ScriptedBackend(None, answer=scripted), "scripted", tmp_path / out / "llm_cache.sqlite")
    return run_plugin(Hierarchical(), cfg, gen, docs, tmp_path / out, seed=1)


def test_small_chunks_cover_the_text_and_cut_at_line_breaks(tokenizer) -> None:
    text = "\n".join(f"line {i} " + "word " * 7 for i in range(60))
    chunks = split_small(text, tokenizer, 50)
    assert "".join(chunks) == text and all(c.endswith("\n") for c in chunks[:-1])
    assert max(len(tokenizer(c, add_special_tokens=False)["input_ids"]) for c in chunks) <= 52
    assert split_small("a b c d e", None, 2) == ["a b ", "c d ", "e"]
    tree = build_tree(" ".join(f"w{i}" for i in range(250)), None, 100, 2)
    assert len(tree.small) == 3 and tree.medium == [[0, 1], [2]]


def test_hierarchical_plan_walks_down_then_revisits_start_at_sections() -> None:
    tree = build_tree(" ".join(f"w{i}" for i in range(800)), None, 100, 2)  # 8 small, 4 medium
    plan = hierarchical(tree, 0, 5, random.Random(0))
    assert [q.kind for q in plan] == ["global", "medium", "local", "medium", "local"]
    assert plan[2].small[0] in tree.medium[plan[1].medium] and plan[4].small[0] in tree.medium[plan[3].medium]
    assert [q.kind for q in hierarchical(tree, 0, 2, random.Random(0), revisit=True)] == ["medium", "local"]
    full = record_plan([tree, tree, tree], random.Random(4), 2, 3, {"multi_hop": 1.0}, 1, 1.0)
    hops = [q for q in full if q.kind == "multi_hop"]
    assert len(hops) == 9 and all(q.small[0] // 2 != q.small[1] // 2 for q in hops)  # from different sections
    assert sum(q.revisit for q in full) == 3  # document 2 revisits 1; document 3 revisits 1 and 2
    again = [record_plan([tree], random.Random(4), 2, 3, {"local": 1.0}, 1, 1.0) for _ in range(2)]
    assert again[0] == again[1]


def test_qa_replies_parse_from_json_or_lines() -> None:
    assert parse_qa('x {"question": "Who wrote it?", "answer": "Ann"} y') == ("Who wrote it?", "Ann")
    assert parse_qa("**Question:** Who wrote it then?\n**Answer:** Ann") == ("Who wrote it then?", "Ann")
    with pytest.raises(ParseError):
        parse_qa("I cannot help with that.")


def test_documents_become_one_multi_turn_conversation(tmp_path) -> None:
    docs = [doc(f"d{i}", 650) for i in range(4)]  # 7 small chunks each, sections [0, 1], [2, 3], [4, 5], [6]
    stats = _run(tmp_path, {"target_tokens": 1400}, docs)
    records = [json.loads(line) for line in (tmp_path / "out" / "data.jsonl").read_text().splitlines()]
    assert get_plugin("hierarchical") is Hierarchical
    assert stats["records"] == 2 and stats["dropped"] == {}  # 2 x 650 words fit in 1400, a third would not
    # 28 small summaries; 12 sections and 4 documents summarised from summaries (a single-chunk section reuses its
    # chunk's); 2 records x (5 + 5 questions + 2 revisits), distinct
    assert stats["llm_calls"] == 28 + 12 + 4 + 2 * (5 + 5 + 2) and stats["llm_cache_hits"] == 0
    record = records[0]
    messages = record["messages"]
    first_doc = record["meta"]["documents"][0]
    assert messages[0]["content"].startswith(f"Document 1:\n{first_doc}w0 ") and "\n\nDocument 2:\n" in messages[0]["content"]
    assert messages[0]["content"].endswith("About document 1: What is the document about?")
    assert [m["role"] for m in messages] == ["user", "assistant"] * 12
    assert record["meta"]["kinds"][:3] == ["global", "medium", "local"] and record["meta"]["revisits"] == 2
    f = first_doc
    assert messages[1]["content"] == f"M(M(S{f}w0+S{f}w100)+M(S{f}w200+S{f}w300)+M(S{f}w400+S{f}w500)+S{f}w600)"
    assert re.fullmatch(rf"{f}w[0-6]00", messages[5]["content"])  # the first word of a chunk of that document
    assert record["meta"]["context_tokens"] == 2 * 650 + 4  # and the two "Document i:" labels
    assert stats["plugin"]["questions_by_kind"]["global"] == 4
    assert record["meta"]["instruction"][0] == "About document 1: What is the document about?"


def test_a_short_document_does_not_repeat_a_question(tmp_path) -> None:
    stats = _run(tmp_path, {"diverse_weights": {"local": 1.0}}, [doc("short", 50)])  # one chunk: one local question
    record = json.loads((tmp_path / "out" / "data.jsonl").read_text())
    assert record["meta"]["kinds"] == ["global", "medium", "local"]
    assert stats["dropped"] == {"the same question and answer twice in a conversation": 2}


@pytest.mark.slow
def test_a_million_word_record(tmp_path) -> None:
    docs = [doc(f"m{i}", 250_000) for i in range(4)]
    stats = _run(tmp_path, {"small_chunk_tokens": 50_000, "small_per_medium": 5, "target_tokens": 1_000_000,
                            "hierarchical_questions": 1, "diverse_questions": 0, "revisit_probability": 0.0}, docs)
    record = json.loads((tmp_path / "out" / "data.jsonl").read_text())
    assert stats["records"] == 1 and record["meta"]["context_tokens"] == 1_000_000 + 8  # and the "Document i:" labels
    assert len(record["messages"]) == 8 and stats["plugin"]["small_chunks"] == 20


def test_unreadable_questions_are_dropped_and_kill_resumes(tmp_path) -> None:
    docs = [doc(f"d{i}", 450) for i in range(4)]
    _run(tmp_path, {"target_tokens": 1000}, docs, "clean")
    killed = ScriptedBackend(None, answer=scripted, fail_after_batches=15)
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, {"target_tokens": 1000}, docs, "killed", killed)
    stats = _run(tmp_path, {"target_tokens": 1000}, docs, "killed")
    assert (tmp_path / "killed" / "data.jsonl").read_bytes() == (tmp_path / "clean" / "data.jsonl").read_bytes()
    clean = json.loads((tmp_path / "clean" / "stats.json").read_text())
    assert stats["llm_calls"] == clean["llm_calls"] - len(killed.requests)  # nothing finished before the kill is asked again
    assert stats["llm_calls"] + stats["llm_cache_hits"] == clean["llm_calls"] + clean["llm_cache_hits"]

    def refuse_hops(request):
        return "no" if "<passage 1>" in request.text else scripted(request)

    refused = _run(tmp_path, {"diverse_weights": {"multi_hop": 1.0}, "tries": 2, "target_tokens": 1000}, docs, "refused",
                   ScriptedBackend(None, answer=refuse_hops))
    assert refused["dropped"] == {"multi_hop question unreadable: no JSON object in the reply": 8}  # 2 per document


@pytest.mark.parametrize(("config", "message"), [
    ({"diverse_weights": {"trivia": 1.0}}, "unknown kind 'trivia'"),
    ({"revisit_probability": 1.5}, "revisit_probability = 1.5"),
    ({"target_tokens": 10}, "target_tokens = 10 is below small_chunk_tokens"),
    ({"small_chunk": 5}, "unknown field 'small_chunk'"),
])
def test_config_errors_name_the_field(config, message) -> None:
    with pytest.raises(HarnessError, match=re.escape(message)):
        load_config(Hierarchical.Config, config, "hierarchical.yaml")
