"""HELMET Cite (ALCE ASQA / QAMPARI): the prompt and its documents fit each length exactly, HELMET's row order and demo
draws, eval_alce.py's metrics on hand-checked outputs (a fake NLI), and a run end to end with the components reported."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import numpy as np
import pytest

from harness.core.errors import HarnessError
from harness.core.prompt import PromptFormat
from harness.core.types import Sample
from harness.runner import EvalConfig, evaluate
from harness.tasks import get_task
from harness.tasks.data import TaskOptions
from harness.tasks.helmet import cite
from harness.tasks.helmet.cite import build_prompt, citation_scores, prompts, qampari_rec_top5, remove_citations, report, score_parts, str_em
from tests.fakes import ScriptedBackend
from tests.tasks.helmet.cite_fixtures import FactNLI, asqa_row, doc, qampari_row, write_alce

HELMET = Path("/work/.mirror/princeton-nlp+HELMET/repo")


@pytest.fixture(scope="module")
def alce_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_alce(tmp_path_factory.mktemp("alce"))


@pytest.mark.skipif(not HELMET.exists(), reason="the HELMET mirror is absent")
def test_demo_files_are_helmets_verbatim() -> None:
    for name in ("asqa", "qampari"):
        source = subprocess.run(["git", "-C", str(HELMET), "show", f"HEAD:prompts/{name}_revised.json"],
                                capture_output=True, text=True, check=True).stdout
        assert prompts()[name] == json.loads(source)


@pytest.mark.parametrize("dataset", ["asqa", "qampari"])
@pytest.mark.parametrize("length", [6000, 8192])
def test_documents_fill_the_budget_exactly(alce_dir: Path, tokenizer, dataset: str, length: int) -> None:
    fmt = PromptFormat(tokenizer, chat=False)
    task = get_task(f"helmet_alce_{dataset}", TaskOptions(data_dir=alce_dir))
    sample = task.make_sample(fmt, length, 1, 7)
    shown = sample.meta["docs_shown"]
    row = json.loads((alce_dir / "helmet" / "alce" / f"{dataset}_eval_gtr_top2000.json").read_text())[sample.meta["row"]]
    assert 0 < shown < len(row["docs"])
    assert fmt.count(sample.prompt) + 300 <= length  # prompt + generation fit
    assert fmt.count(build_prompt(dataset, row, sample.meta["demos"], shown + 1)) + 300 > length  # one more would not
    assert f"Document [{shown}](Title: page {shown - 1}): " in sample.prompt
    assert f"Document [{shown + 1}](" not in sample.prompt.split("Question: ")[-1]


def test_a_length_below_the_demos_is_a_skipped_sample(alce_dir: Path, tokenizer) -> None:
    sample = get_task("helmet_alce_asqa", TaskOptions(data_dir=alce_dir)).make_sample(PromptFormat(tokenizer, chat=False), 2048, 0, 1)
    assert "over the budget of 1748" in sample.skipped and sample.meta["docs_shown"] == 0


def test_prompt_is_load_alces(alce_dir: Path) -> None:
    spec = prompts()["asqa"]
    row = asqa_row(3, docs=2)
    text = build_prompt("asqa", row, (2, 0), 2)
    demo = lambda i: spec["demo_prompt"].format(**spec["demos"][i], instruction=spec["instruction"], context="\n\n".join(  # noqa: E731
        f"Document [{k + 1}](Title: {d['title']}): {d['text']}" for k, d in enumerate(spec["demos"][i]["docs"])))
    expected = (demo(2) + "\n\n\n" + demo(0) + "\n\n\n" + spec["instruction"] + "\n\nQuestion: Who built bridge 3?\n\n"
                + f"Document [1](Title: page 0): {row['docs'][0]['text']}\n\nDocument [2](Title: page 1): {row['docs'][1]['text']}")
    assert text == expected


def test_rows_and_demos_follow_helmets_seed(alce_dir: Path) -> None:
    rng = random.Random(42)
    draws = [tuple(rng.sample(prompts()["qampari"]["demos"], 2)) for _ in range(6)]  # load_alce's per-row draw
    order = np.random.default_rng(42).permutation(6)  # datasets' shuffle(seed=42)
    task = get_task("helmet_alce_qampari", TaskOptions(data_dir=alce_dir))

    class Words:
        costs = None
        tokenizer = None

        def count(self, prompt, answer_prefix: str = "") -> int:
            return len(str(prompt).split())

    for index in range(6):
        sample = task.make_sample(Words(), 100_000, index, 1)
        assert sample.meta["row"] == order[index]
        picked = [prompts()["qampari"]["demos"][i] for i in sample.meta["demos"]]
        assert tuple(d["question"] for d in picked) == tuple(d["question"] for d in draws[order[index]])
        assert sample.meta["docs_shown"] == 100 and task.num_samples == 100


def test_str_em_and_qampari_recall() -> None:
    pairs = [{"short_answers": ["Paris"]}, {"short_answers": ["Lyon", "Lyons"]}]
    assert str_em("The capital is Paris [1].", pairs) == 50.0
    assert str_em("Paris[2] and the LYONS.", pairs) == 100.0
    answers = [["alpha"], ["Beta", "B"], ["delta"]]
    assert qampari_rec_top5("Alpha [1], B [2], Zeta.", answers) == pytest.approx(200 / 3)
    many = [[f"a{i}"] for i in range(7)]
    assert qampari_rec_top5("a0, a1, a2, a3, a4, a5.", many) == 100.0  # capped at 5
    assert qampari_rec_top5("a0, a1.", many) == 40.0
    assert remove_citations("Paris [1][2] is big [3].") == "Paris is big."


def test_citation_recall_and_precision_follow_eval_alce() -> None:
    docs = [doc(0, "ALPHA"), doc(1, "BETA"), doc(2, "ALPHA BETA"), doc(3, "GAMMA")]
    output = ("Sentence ALPHA is true [1]. Both ALPHA and BETA hold [1][2]. Then BETA here [3][2][4]. "
              "Nothing cited GAMMA here. Bad cite GAMMA here [9]. Too many ALPHA [4][4][4][1].")
    nli = FactNLI()
    cited = citation_scores(output, "q", docs, nli, qampari=False)
    # supported: sentences 1-3 of 6 -> recall 3/6. citations: 1 + 2 + 3 + 0 + 0 (out of range) + 3 (at most 3) = 9;
    # precise: 1 + 2 (each needed) + 2 ([4] is not needed: [3][2] support the sentence without it) = 5
    assert cited.recall == 50.0 and cited.precision == pytest.approx(100 * 5 / 9)
    assert [len(r) for r in nli.rounds] == [4, 5, 3]  # joint sets; each doc of a supported multi-citation; the rest
    assert not citation_scores("ok.", "q", docs, FactNLI(), qampari=False).counted  # under 5 characters: no sentence


def test_partial_support_is_precise() -> None:
    docs = [doc(0, "ALPHA"), doc(1, "BETA")]
    nli = FactNLI()
    cited = citation_scores("Both ALPHA and BETA hold [1][2].", "q", docs, nli, qampari=False)
    assert (cited.recall, cited.precision) == (100.0, 100.0)  # neither supports alone, neither is redundant
    cited = citation_scores("Just ALPHA holds [1][2].", "q", docs, FactNLI(), qampari=False)
    assert (cited.recall, cited.precision) == (100.0, 50.0)  # [2] is redundant


def test_qampari_claims_carry_the_question_and_zero_index_is_the_last_doc() -> None:
    docs = [doc(0, "ALPHA"), doc(1, "BETA"), doc(2, "DELTA")]
    nli = FactNLI()
    cited = citation_scores("ALPHA [1], BETA [1], DELTA [0].", "Which RIVER towns?", [*docs[:2], doc(2, "DELTA RIVER")], nli,
                            qampari=True)
    assert nli.rounds[0][0][1] == "Which RIVER towns? ALPHA"
    # ALPHA [1]: doc 1 lacks RIVER -> no; BETA [1]: no; DELTA [0] -> docs[-1] (the reference's index -1) -> yes
    assert cited.recall == pytest.approx(100 / 3) and cited.precision == pytest.approx(100 / 3)


def test_sample_score_is_the_mean_of_the_three() -> None:
    row = qampari_row(0, docs=3)
    row["docs"] = [doc(0, "Alpha ALPHA"), doc(1, "BETA"), doc(2)]
    nli = FactNLI()
    parts = score_parts("qampari", row, "ALPHA [1],\nBETA [3], Zeta.", nli)
    assert parts == {"qampari_rec_top5": pytest.approx(200 / 3), "citation_rec": pytest.approx(100 / 3),
                     "citation_prec": 50.0, "citation_counted": True}  # 2 citations, 1 supporting


def test_report_means_as_eval_alce(tmp_path: Path) -> None:
    from harness.core.types import ScoredSample

    def record(score: float, em: float, rec: float, prec: float, counted: bool) -> ScoredSample:
        return ScoredSample(id="x", task="helmet_alce_asqa", length=4096, index=0, prompt_tokens=1, targets=(), output="",
                            score=score, latency_s=0.0, meta={"str_em": em, "citation_rec": rec, "citation_prec": prec,
                                                              "citation_counted": counted})

    out = report("asqa", "seq2seq:m", [record(0, 50, 100, 50, True), record(0, 0, 0, 0, False)], tmp_path)
    assert out["4096"] == {"str_em": 25.0, "citation_rec": 100.0, "citation_prec": 50.0, "cite": 58.3333, "n": 2,
                           "no_sentence": 1}
    assert out["nli"] == "seq2seq:m"


def test_nli_option_is_recorded_and_checked(alce_dir: Path) -> None:
    task = get_task("helmet_alce_asqa", TaskOptions(data_dir=alce_dir))
    assert task.params["nli"] == "seq2seq:google/t5_xxl_true_nli_mixture"
    other = get_task("helmet_alce_asqa", TaskOptions(data_dir=alce_dir, args={"nli": "llm:smollm2-135m"}))
    assert other.params["nli"] == "llm:smollm2-135m" and other.options.given == {"nli": "llm:smollm2-135m"}
    with pytest.raises(HarnessError, match="only for an nli=llm:MODEL"):
        get_task("helmet_alce_asqa", TaskOptions(data_dir=alce_dir, args={"nli_base_url": "http://h/v1"}))
    with pytest.raises(HarnessError, match="no option"):
        from harness.tasks.options import resolve_task_args

        resolve_task_args(["helmet_alce_asqa"], {"helmet_alce_asqa.nli_model": "x"})


def test_bad_rows_name_the_field(tmp_path: Path) -> None:
    root = write_alce(tmp_path)
    path = root / "helmet" / "alce" / "asqa_eval_gtr_top2000.json"
    rows = json.loads(path.read_text())
    for row in rows:
        row["docs"][1] = {"title": "t"}
    path.write_text(json.dumps(rows))
    task = get_task("helmet_alce_asqa", TaskOptions(data_dir=root))
    with pytest.raises(HarnessError, match=r"docs\[1\].*'text'"):
        task.make_sample(_Words(), 4096, 0, 1)


class _Words:
    costs = None
    tokenizer = None

    def count(self, prompt, answer_prefix: str = "") -> int:
        return len(str(prompt).split())


def test_end_to_end_components_in_meta_and_report(alce_dir: Path, tokenizer, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    nli = FactNLI()
    monkeypatch.setattr(cite, "load_nli", lambda spec, base_url=None: nli)

    def answer(request) -> str:
        return "Ann designed it [1].\nThe city paid for it [2]."  # doc 1 holds ALPHA only: no fact to check

    config = EvalConfig(model="scripted", tasks=["helmet_alce_asqa"], lengths=[8192], data_dir=str(alce_dir), limit=3)
    _, result = evaluate(config, ScriptedBackend(tokenizer, answer=answer), tmp_path / "out", None)
    lines = [json.loads(line) for line in (tmp_path / "out" / "samples" / "helmet_alce_asqa.jsonl").read_text().splitlines()]
    assert len(lines) == 3
    for line in lines:
        meta = line["meta"]
        assert meta["str_em"] == 100.0 and meta["citation_rec"] == 100.0 and meta["citation_prec"] == 100.0
        assert line["score"] == pytest.approx(100.0)
    rep = result.extra["reports"]["helmet_alce_asqa"]
    assert rep["8192"]["cite"] == 100.0 and rep["nli"] == "seq2seq:google/t5_xxl_true_nli_mixture"
    assert result.results["helmet_alce_asqa"]["8192"]["score"] == pytest.approx(100.0)


def test_scoring_reads_the_samples_row(alce_dir: Path) -> None:
    sample = Sample(id="s", task="helmet_alce_asqa", length=4096, index=0, prompt="p", meta={"row": 2})
    load = lambda: cite._helmet_rows("asqa", TaskOptions(data_dir=alce_dir))  # noqa: E731
    score, parts = cite.scorer("asqa", load, FactNLI, sample, "Ann Lee built it, ALPHA says so [1].")
    assert parts["str_em"] == 50.0 and parts["citation_rec"] == 100.0 and parts["citation_prec"] == 100.0
    assert score == pytest.approx(250 / 3)
