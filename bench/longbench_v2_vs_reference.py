"""lc-harness's LongBench v2 against the reference `pred.py` and `result.py`, on generated questions and outputs.

`python bench/longbench_v2_vs_reference.py --reference PATH [--questions 300 --files 200]`, PATH the reference
repository (THUDM/LongBench: a checkout, or a bare git directory read at HEAD; its top level holds `pred.py`,
`result.py`, `prompts/`, `config/`). Nothing is downloaded and no model runs:

1. templates: our `prompts.toml` against `prompts/*.txt`, byte for byte;
2. `pred.py` itself (loaded at run time from the reference, its heavy imports stubbed: datasets, openai,
   transformers, tiktoken, torch): its `get_pred` runs on generated questions in each setting (direct, cot,
   no_context, rag with top-N) with a stub client that records every prompt and answers with generated
   outputs of many shapes (bracketed, bare, starred, lower-case, E, several answers, the template's own
   placeholder, empty, ...). Its prompts are compared with lc-harness's (sample prompt, and for cot the
   follow-up prompt built from the same first output), and its `pred`/`judge` with our extracted letter and
   score. The reference drops an empty output from its results (`if output == '': continue`); lc-harness
   scores it 0: those are counted apart, not as disagreements;
3. `result.py` (run as the script it is, in a scratch folder) on generated result files against our
   `report` on the same records: overall, easy, hard, short, medium, long.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import types
from pathlib import Path
from typing import Any

from harness.core.types import Prompt, ScoredSample
from harness.tasks.data import TaskOptions
from harness.tasks.longbench_v2 import scoring
from harness.tasks.longbench_v2.task import follow_up, longbench_v2_task, prompts

FILES = ("pred.py", "result.py", "config/model2path.json", "config/model2maxlen.json", "prompts/0shot.txt",
         "prompts/0shot_cot.txt", "prompts/0shot_cot_ans.txt", "prompts/0shot_no_context.txt", "prompts/0shot_rag.txt")
TEMPLATE_FILES = {"direct": "0shot", "cot": "0shot_cot", "cot_answer": "0shot_cot_ans", "no_context": "0shot_no_context",
                  "rag": "0shot_rag"}
MODEL = "GLM-4-9B-Chat"  # a model of the reference's config (its prompts are cut at 120,000 tokens: ours are short)
WORDS = "the harbour wall was rebuilt after storm council paid merchants moved stores inland $Q$ (A) B".split()


def reference_file(reference: Path, name: str) -> str:
    """A file of the reference (a checkout, or a bare git directory at HEAD)."""
    if (reference / name).is_file():
        return (reference / name).read_text(encoding="utf-8")
    return subprocess.run(["git", "-C", str(reference), "show", f"HEAD:{name}"], capture_output=True, text=True,
                          check=True).stdout


def stub_modules() -> None:
    """pred.py's imports, stubbed: nothing heavy loads and nothing reaches the network."""
    for name in ("datasets", "openai", "transformers", "tiktoken", "torch", "torch.multiprocessing", "tqdm"):
        sys.modules[name] = types.ModuleType(name)
    sys.modules["datasets"].load_dataset = None  # type: ignore[attr-defined]
    sys.modules["openai"].OpenAI = None  # type: ignore[attr-defined]
    sys.modules["transformers"].AutoTokenizer = None  # type: ignore[attr-defined]
    sys.modules["torch"].multiprocessing = sys.modules["torch.multiprocessing"]  # type: ignore[attr-defined]
    sys.modules["tqdm"].tqdm = lambda items: items  # type: ignore[attr-defined]


class CharTokenizer:
    """What pred.py's `query_llm` asks of a tokenizer: encode/decode (one id per character)."""

    def encode(self, text: str, **kwargs: Any) -> list[int]:
        return [ord(c) for c in text]

    def decode(self, ids: list[int], **kwargs: Any) -> str:
        return "".join(map(chr, ids))


class Client:
    """pred.py's OpenAI client: records each prompt and answers with the next scripted output."""

    def __init__(self) -> None:
        self.prompts: list[str] = []
        self.replies: list[str] = []
        self.chat = types.SimpleNamespace(completions=types.SimpleNamespace(create=self.create))

    def create(self, model: str, messages: list[dict[str, str]], temperature: float, max_tokens: int) -> Any:
        self.prompts.append(messages[0]["content"])
        message = types.SimpleNamespace(content=self.replies.pop(0))
        return types.SimpleNamespace(choices=[types.SimpleNamespace(message=message)])


def load_pred(workdir: Path, client: Client) -> dict[str, Any]:
    """pred.py's functions, executed from its source in `workdir` (it reads config/ and prompts/ relative to it)."""
    stub_modules()
    sys.modules["openai"].OpenAI = lambda base_url, api_key: client  # type: ignore[attr-defined]
    sys.modules["transformers"].AutoTokenizer = types.SimpleNamespace(  # type: ignore[attr-defined]
        from_pretrained=lambda path, trust_remote_code: CharTokenizer())
    namespace: dict[str, Any] = {"__name__": "longbench_v2_pred"}
    exec(compile((workdir / "pred.py").read_text(encoding="utf-8"), str(workdir / "pred.py"), "exec"), namespace)
    return namespace


def text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def question(i: int, rng: random.Random) -> dict[str, Any]:
    """A question of the published schema, with retrieved chunks (shuffled c_idx) for rag."""
    chunks = [{"c_idx": c, "content": text(rng, rng.randint(3, 12))} for c in rng.sample(range(40), rng.randint(1, 8))]
    return {"_id": f"q{i}", "domain": rng.choice(["Single-Document QA", "Code Repository Understanding"]),
            "sub_domain": "x", "difficulty": rng.choice(["easy", "hard"]), "length": rng.choice(["short", "medium", "long"]),
            "question": rng.choice(["", " ", "\n"]) + text(rng, rng.randint(3, 10)) + rng.choice(["?", "? \n"]),
            **{f"choice_{x}": rng.choice(["", " "]) + text(rng, rng.randint(1, 5)) for x in "ABCD"},
            "answer": rng.choice("ABCD"), "context": rng.choice(["", "\n "]) + text(rng, rng.randint(20, 80)) + "\n",
            "retrieved_context": chunks}


def output(rng: random.Random) -> str:
    """A model output of one of many shapes (the tricky ones included)."""
    letter = rng.choice("ABCDEabcd")
    other = rng.choice("ABCD")
    noise = text(rng, rng.randint(0, 6))
    shapes = [
        f"The correct answer is ({letter})", f"The correct answer is {letter}", f"The correct answer is **({letter})**",
        f"**The correct answer is {letter}**", f"The correct answer is *{letter}*.", f"{noise}\nThe correct answer is ({letter}).",
        f"The correct answer is: ({letter})", f"the correct answer is ({letter})", f"The Correct Answer is ({letter})",
        f"The correct answer is ({letter}) or The correct answer is ({other})", f"The correct answer is {other}, "
        f"The correct answer is ({letter})", "The correct answer is (insert answer here)", f"The correct answer is  ({letter})",
        f"The correct answer is ( {letter} )", f"The correct answer is {letter}lpha", f"Answer: ({letter})", f"({letter})",
        "", " ", noise, f"  The correct answer is ({letter})\n\n", f"The correct answer is \n({letter})",
        f"The correct answer is (*{letter}*)", f"The correct answer is (({letter}))", f"The correct answer is [{letter}]",
    ]
    return rng.choice(shapes)


class CharCounter:
    """A counter for our samples (characters; the prompts here never reach a length's budget)."""

    costs = None
    tokenizer = None

    def count(self, prompt: Prompt, answer_prefix: str = "") -> int:
        return len(str(prompt)) + len(answer_prefix)


def check_pred(workdir: Path, data_dir: Path, rows: list[dict[str, Any]], rng: random.Random) -> dict[str, int]:
    """pred.py's prompts, letters and verdicts against ours, per setting; the counts."""
    client = Client()
    pred = load_pred(workdir, client)
    counts: dict[str, int] = {}
    for mode, rag in (("direct", 0), ("cot", 0), ("no_context", 0), ("rag", 0), ("rag", 3)):
        label = f"{mode}{f'_top{rag}' if rag else ''}"
        args = types.SimpleNamespace(model=MODEL, cot=mode == "cot", no_context=mode == "no_context",
                                     rag=(rag or 10**6) if mode == "rag" else 0)
        task_args: dict[str, Any] = {"mode": mode, **({"rag_top": rag} if rag else {})}
        task = longbench_v2_task(TaskOptions(data_dir=data_dir, args=task_args))
        prompt_differ = verdict_differ = dropped = 0
        for index, row in enumerate(rows):
            replies = [output(rng)] + ([output(rng)] if mode == "cot" else [])
            if mode == "cot" and rng.random() < 0.3:  # a thought of many shapes, then an answer
                replies[0] = rng.choice(["", "  " + text(rng, 12) + "\n", "$Q$ " + text(rng, 5)])
            client.prompts, client.replies = [], list(replies)
            written: list[str] = []
            pred["get_pred"]([dict(row)], args, types.SimpleNamespace(write=written.append, flush=lambda: None))
            sample = task.make_sample(CharCounter(), 10**7, index, 0)
            prompt_differ += client.prompts[0] != sample.prompt
            if mode == "cot" and len(client.prompts) > 1:
                step = follow_up(sample, task.postprocess(replies[0]))
                prompt_differ += step is None or client.prompts[1] != step[0]
            if not written:  # pred.py dropped an empty output; we score it 0
                dropped += 1
                continue
            item = json.loads(written[0])
            ours = task.score(sample, replies[-1])
            verdict_differ += (item["pred"] != scoring.extract_answer(replies[-1].strip())) or (item["judge"] != (ours == 100.0))
        counts[f"{label} prompts differ"] = prompt_differ
        counts[f"{label} verdicts differ"] = verdict_differ
        counts[f"{label} dropped by pred.py (empty output)"] = dropped
    return counts


def check_result(workdir: Path, files: int, rng: random.Random) -> tuple[int, int]:
    """result.py's table against our report on generated result files: (files, numbers that differ)."""
    scratch = Path(tempfile.mkdtemp(prefix="lbv2-result-"))
    (scratch / "results").mkdir()
    expected: dict[str, dict[str, Any]] = {}
    for f in range(files):
        n = rng.randint(6, 120)
        lines: list[tuple[str, str, bool]] = []
        while not lines or {d for d, _, _ in lines} != {"easy", "hard"} or {b for _, b, _ in lines} != {"short", "medium", "long"}:
            lines = [(rng.choice(["easy", "hard"]), rng.choice(["short", "medium", "long"]), rng.random() < 0.4) for _ in range(n)]
        name = f"model{f:04d}"
        with open(scratch / "results" / f"{name}.jsonl", "w", encoding="utf-8") as out:
            for d, b, ok in lines:
                out.write(json.dumps({"difficulty": d, "length": b, "judge": ok, "pred": "A" if ok else None}) + "\n")
        records = [ScoredSample(id=str(i), task="longbench_v2", length=131072, index=i, prompt_tokens=0, targets=("A",),
                                output="The correct answer is (A)" if ok else "", score=100.0 if ok else 0.0, latency_s=0.0,
                                meta={"difficulty": d, "length_bucket": b}) for i, (d, b, ok) in enumerate(lines)]
        expected[name] = scoring.report(records, scratch)["131072"]
    subprocess.run([sys.executable, str(workdir / "result.py")], cwd=scratch, check=True)
    header, *rows = (scratch / "result.txt").read_text(encoding="utf-8").splitlines()
    columns = [c.lower() for c in header.split("\t")[1:]]
    differ = 0
    for line in rows:
        name, *values = line.split("\t")
        ours = expected[name]
        differ += sum(float(value) != ours[column]["acc"] for column, value in zip(columns, values))
    return len(rows), differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", type=Path, required=True, help="THUDM/LongBench (a checkout or a bare git dir)")
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--files", type=int, default=200, help="generated result files for result.py")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="lbv2-reference-"))
    for name in FILES:
        (workdir / name).parent.mkdir(parents=True, exist_ok=True)
        (workdir / name).write_text(reference_file(args.reference, name), encoding="utf-8")
    template_differ = sum(prompts()[key]["template"] != (workdir / "prompts" / f"{f}.txt").read_text(encoding="utf-8")
                          for key, f in TEMPLATE_FILES.items())
    print(f"templates: {len(TEMPLATE_FILES)} compared, {template_differ} differ")
    rng = random.Random(args.seed)
    rows = [question(i, rng) for i in range(args.questions)]
    data_dir = workdir / "data"
    (data_dir / "longbench_v2").mkdir(parents=True)
    (data_dir / "longbench_v2" / "data.json").write_text(json.dumps(rows), encoding="utf-8")
    cwd = os.getcwd()
    os.chdir(workdir)
    try:
        counts = check_pred(workdir, data_dir, rows, rng)
    finally:
        os.chdir(cwd)
    for name, count in counts.items():
        print(f"pred.py {name}: {count} / {args.questions}")
    files, differ = check_result(workdir, args.files, rng)
    print(f"result.py: {files} files x 6 accuracies, {differ} differ")
    total = template_differ + differ + sum(v for k, v in counts.items() if "differ" in k)
    print(f"total disagreements: {total}")
    sys.exit(1 if total else 0)


if __name__ == "__main__":
    main()
