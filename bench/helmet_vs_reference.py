"""lc-harness's HELMET scoring against HELMET's own `utils.py`, on generated predictions.

`python bench/helmet_vs_reference.py [--reference GIT_DIR_OR_FOLDER] [--commit SHA] [--n 2000]`: the reference's
`utils.py` is written out of the mirrored repository (`git show COMMIT:utils.py`, default: the pinned commit of
/work/.mirror/princeton-nlp+HELMET/repo) into a temporary folder, or read from a checkout folder; modules it imports
that are not installed here are stubbed (its scoring never calls them). Each metric is one check in `CHECKS` (add
yours): it draws predictions of many shapes (exact copies, copies inside sentences or after the prompt's prefix,
paraphrases, truncations, random text, ranked-id lists in several spellings), scores each with HELMET's functions
and with ours, and returns the counts; the script prints them and exits 1 on any disagreement.
"""

from __future__ import annotations

import argparse
import importlib
import random
import subprocess
import sys
import tempfile
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from harness.tasks.helmet.metrics import best_substring_match, parse_output, parse_rankings, rerank_ndcg, substring_exact_match

MIRROR = Path("/work/.mirror/princeton-nlp+HELMET/repo")
COMMIT = "4526dfbdc512bd9ff721da336bff4e3e75ecfd27"
WORDS = ["the", "a", "an", "Eiffel", "tower", "Paris", "1912", "river", "Lantern", "of", "yes", "no", "U.S.", "don't",
         "co-op", "Café", "naïve", "ID", "42", "value:", "answer:"]


@dataclass
class Outcome:
    """One check's counts: cases, disagreements, and both means (0-100)."""

    n: int
    differ: int
    ours: float
    theirs: float
    examples: list[str]


def load_reference(reference: Path, commit: str) -> Any:
    """HELMET's utils.py as a module: from a bare git dir at `commit`, or from a folder holding utils.py."""
    if (reference / "utils.py").is_file():
        folder = reference
    else:
        folder = Path(tempfile.mkdtemp(prefix="helmet-ref-"))
        text = subprocess.run(["git", "-C", str(reference), "show", f"{commit}:utils.py"], check=True,
                              capture_output=True, text=True).stdout
        (folder / "utils.py").write_text(text)
    for name in ("torch", "pytrec_eval", "rouge_score"):
        try:
            importlib.import_module(name)
        except ImportError:  # stub what is absent: the functions compared here do not use it
            stub = types.ModuleType(name)
            stub.rouge_scorer = types.SimpleNamespace(RougeScorer=None)  # type: ignore[attr-defined]
            sys.modules[name] = stub
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module("utils")
    finally:
        sys.path.remove(str(folder))


def answers(rng: random.Random) -> list[str]:
    return [" ".join(rng.choices(WORDS, k=rng.randint(1, 4))) for _ in range(rng.randint(1, 3))]


def prediction(rng: random.Random, truths: list[str], prefix: str) -> str:
    answer = rng.choice(truths)
    noise = " ".join(rng.choices(WORDS, k=rng.randint(0, 6)))
    words = answer.split()
    shapes = [
        answer, f" {answer}", f"{noise} {answer}.", f"{prefix} {answer}", f"{prefix}{answer}\n{noise}",
        f"{noise}\n{prefix} {answer}", f"{prefix} {prefix} {answer}", answer.upper(), answer.lower() + "!",
        " ".join(reversed(words)), " ".join(w for w in words if w.lower() not in ("the", "a", "an")),  # paraphrases
        answer[: max(1, len(answer) // 2)], noise, "", "\n" + answer, f"{answer[:3]}-{answer[3:]}",
        f"{noise}, {answer.replace(' ', '  ')}", f"\"{answer}\"", f"({answer})",
    ]
    return rng.choice(shapes)


def check_substring_exact_match(reference: Any, n: int, seed: int) -> Outcome:
    """substring_exact_match and HELMET's post-process (the better of raw and parsed output), for RAG's "Answer:"
    and JSON KV's "corresponding value:" prefixes; parse_output compared too."""
    rng = random.Random(seed)
    differ, ours_sum, theirs_sum, examples = 0, 0.0, 0.0, []
    for i in range(n):
        prefix = ("Answer:", "corresponding value:")[i % 2]
        truths = answers(rng)
        pred = prediction(rng, truths, rng.choice([prefix, prefix.upper(), "Corresponding value:"]))
        raw_theirs = float(reference.drqa_metric_max_over_ground_truths(reference.substring_exact_match_score, pred, truths))
        parsed_theirs = reference.parse_output(pred, prefix)
        post_theirs = raw_theirs
        if parsed_theirs is not None:
            post_theirs = max(raw_theirs, float(reference.drqa_metric_max_over_ground_truths(
                reference.substring_exact_match_score, parsed_theirs, truths)))
        ours = best_substring_match(pred, truths, prefix)
        same = (substring_exact_match(pred, truths) == raw_theirs and parse_output(pred, prefix) == parsed_theirs
                and ours == post_theirs)
        if not same:
            differ += 1
            examples.append(repr((pred, truths, ours, post_theirs)))
        ours_sum, theirs_sum = ours_sum + ours, theirs_sum + post_theirs
    return Outcome(n, differ, 100 * ours_sum / n, 100 * theirs_sum / n, examples[:5])


def ranked_output(rng: random.Random, ids: list[str], labels: dict[str, int]) -> str:
    gold = sorted(ids, key=lambda d: labels[d], reverse=True)
    order = rng.sample(ids, len(ids))
    part = order[: rng.randint(1, len(ids))]
    shapes = [
        " > ".join(gold), " > ".join(order), " > ".join(f"ID{d}" for d in part), " > ".join(f"[ID: {d}]" for d in part),
        "Ranking: " + " > ".join(f"[{d}]" for d in gold[:10]), " > ".join(part + part[:2]),  # repeats
        f"{part[0]} > {part[-1]}\nthen " + " > ".join(order), "I cannot rank these.", "", " >".join(part),
        ", ".join(order), f"ID {part[0]} > ID {part[-1]}", " > ".join(order) + f" > {rng.randint(500, 999)}",
    ]
    return rng.choice(shapes)


def check_ndcg_at_10(reference: Any, n: int, seed: int) -> Outcome:
    """parse_rankings and NDCG@10 (HELMET: calculate_retrieval_metrics over pytrec_eval, rounded to 5 places)."""
    rng = random.Random(seed)
    differ, ours_sum, theirs_sum, examples = 0, 0.0, 0.0, []
    for _ in range(n):
        ids = [str(i) for i in rng.sample(range(200), rng.randint(2, 30))]
        labels = {d: rng.choice([0, 0, 0, 1, 2, 3]) for d in ids}
        output = ranked_output(rng, ids, labels)
        parsed = reference.parse_rankings(output)
        metrics = reference.calculate_retrieval_metrics(results={"q": parsed}, qrels={"q": labels}, k_values=[1, 5, 10])
        theirs = float(metrics["NDCG@10"])
        ours = rerank_ndcg(output, labels)
        if parse_rankings(output) != parsed or abs(ours - theirs) > 1e-5:
            differ += 1
            examples.append(repr((output, labels, ours, theirs)))
        ours_sum, theirs_sum = ours_sum + ours, theirs_sum + theirs
    return Outcome(n, differ, 100 * ours_sum / n, 100 * theirs_sum / n, examples[:5])


def _reference_part(reference: Any, file: str, outer: str | None, names: tuple[str, ...]) -> dict[str, Any]:
    """Functions (and assignments) `names` of HELMET's `file`, top level or inside function `outer`, compiled from its
    source (beside the loaded utils.py, else `git show COMMIT:file` of the mirror) into a namespace holding utils'
    functions: data.py's ICL and choice post-processes are closures of its loaders, and the GPT-4 judge script
    imports an API client."""
    import ast
    import json
    import re

    beside = Path(reference.__file__).parent / file
    source = beside.read_text() if beside.is_file() else subprocess.run(
        ["git", "-C", str(MIRROR), "show", f"{COMMIT}:{file}"], check=True, capture_output=True, text=True).stdout
    tree = ast.parse(source)
    scope = tree.body if outer is None else list(ast.walk(next(  # a closure may sit inside an if-branch
        n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == outer)))
    nodes = [n for n in scope if (isinstance(n, ast.FunctionDef) and n.name in names) or
             (isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id in names for t in n.targets))]
    namespace: dict[str, Any] = {"re": re, "json": json, "calculate_metrics": reference.calculate_metrics,
                                 "parse_output": reference.parse_output, "system_template": "label:"}
    exec(compile(ast.Module(body=nodes, type_ignores=[]), f"HELMET {file}", "exec"), namespace)
    return namespace


def _outcome(pairs: list[tuple[float, float, str]]) -> Outcome:
    """Counts over (ours, theirs, case) triples (scores 0-1)."""
    differ = [case for ours, theirs, case in pairs if abs(ours - theirs) > 1e-9]
    n = len(pairs)
    return Outcome(n, len(differ), 100 * sum(p[0] for p in pairs) / n, 100 * sum(p[1] for p in pairs) / n, differ[:5])


def check_icl_exact_match(reference: Any, n: int, seed: int) -> Outcome:
    """HELMET ICL's post-process (load_icl's `post_process`: exact match after `label:`) on outputs with `label:`
    prepended, as HELMET's eval.py prepends it without a chat template."""
    post = _reference_part(reference, "data.py", "load_icl", ("post_process",))["post_process"]
    from harness.tasks.helmet.qa_metrics import icl_exact_match

    rng = random.Random(seed)
    pairs = []
    for _ in range(n):
        label = str(rng.randint(0, 150))
        output = prediction(rng, [label, f"label: {label}", str(rng.randint(0, 150))], "label:")
        theirs = float(post({"output": "label:" + output}, {"answer": label})[0]["exact_match"])
        pairs.append((icl_exact_match("label:" + output, label), theirs, repr((output, label))))
    return _outcome(pairs)


def check_rouge_l_f1(reference: Any, n: int, seed: int) -> Outcome:
    """HELMET's `default_post_process` rougeL_f1 (NarrativeQA, InfiniteBench QA), with and without `Answer:`
    prepended (no chat template / chat template); substring exact match (the NarrativeQA report's) with it."""
    post = _reference_part(reference, "data.py", None, ("default_post_process",))["default_post_process"]
    from harness.tasks.helmet.qa_metrics import default_score

    rng = random.Random(seed)
    pairs = []
    for i in range(n):
        truths = answers(rng)
        output = ("Answer:" if i % 2 else "") + prediction(rng, truths, "Answer:")
        theirs = post({"output": output}, {"answer": truths})[0]
        pairs.append((default_score("rougeL_f1", output, truths), theirs["rougeL_f1"], repr((output, truths))))
        sub = default_score("substring_exact_match", output, truths)
        pairs.append((sub, float(theirs["substring_exact_match"]), repr(("substring", output, truths))))
    return _outcome(pairs)


def check_choice_exact_match(reference: Any, n: int, seed: int) -> Outcome:
    """HELMET's InfiniteBench choice post-process (exact match of raw or parsed output, or the "X. option" text)."""
    post = _reference_part(reference, "data.py", "load_infbench", ("choice_post_process",))["choice_post_process"]
    from harness.tasks.helmet.qa_metrics import choice_exact_match

    rng = random.Random(seed)
    pairs = []
    for i in range(n):
        options = answers(rng)[:1] + [" ".join(rng.choices(WORDS, k=2)) for _ in range(3)]
        letter = "ABCD"[rng.randrange(4)]
        truths = [letter, f"{letter}. {options['ABCD'.index(letter)]}"]
        output = ("Answer:" if i % 2 else "") + prediction(rng, truths + [rng.choice("ABCD")], "Answer:")
        theirs = float(post({"output": output}, {"answer": truths})[0]["exact_match"])
        pairs.append((choice_exact_match(output, truths), theirs, repr((output, truths))))
    return _outcome(pairs)


def check_longqa_judge(reference: Any, n: int, seed: int) -> Outcome:
    """NarrativeQA's GPT-4 judge (scripts/eval_gpt4_longqa.py): the prompt built from an output (1 when identical)
    and the verdict parsed from a reply (fluency x correctness; ours x 100/3 scaled back)."""
    script = _reference_part(reference, "scripts/eval_gpt4_longqa.py", None, ("parse_output", "judge_prompt", "parse_json"))
    from harness.tasks.helmet.longqa import judge_prompt, parse_judge

    rng = random.Random(seed)
    pairs: list[tuple[float, float, str]] = []
    for _ in range(n):
        truths = answers(rng)
        output = prediction(rng, truths, "Answer:")
        sample = types.SimpleNamespace(meta={"question": "Who?", "chat": True}, targets=tuple(truths))
        ours_prompt = judge_prompt(sample, output)[0]["content"]  # type: ignore[arg-type]
        theirs_prompt = script["judge_prompt"].format(question="Who?", correct_answers=truths,
                                                      parsed_output=script["parse_output"](output))
        pairs.append((1.0, float(ours_prompt == theirs_prompt), repr(("prompt", output, truths))))
        fluency, correctness = rng.choice([0, 1, True, "1", 1.0]), rng.choice([0, 1, 2, 3, 2.5])
        reply = rng.choice([f'Reasoning. {{"fluency": {json_value(fluency)}, "correctness": {correctness}}}',
                            f'{{"x": 1}} then {{"fluency": {json_value(fluency)}, "correctness": {correctness}}}',
                            f'{{"correctness": {correctness}}}', "no verdict", "{broken json}"])
        scores = script["parse_json"](reply)
        valid = isinstance(scores, dict) and {"fluency", "correctness"} <= set(scores) and all(
            isinstance(scores[k], (int, float)) for k in ("fluency", "correctness"))  # HELMET fails on "1" * 2.5
        theirs = scores["fluency"] * scores["correctness"] if valid else -1.0  # -1: no readable score
        ours = parse_judge(reply)
        pairs.append((-1.0 if ours is None else ours * 3 / 100, float(theirs), repr(("verdict", reply))))
    return _outcome(pairs)


def check_icl_prompts(reference: Any, n: int, seed: int) -> Outcome:
    """HELMET's own `load_icl` (data.py, run on synthetic splits in the hub schemas through a stand-in
    `load_dataset`, `map` without worker processes) against lc-harness's ICL samples with the same fixed shot count:
    the whole prompt and the answer of every selected test example (`n` caps the shots tried). 1 = identical."""
    import ast
    import json
    import tempfile

    import datasets

    from harness.core.prompt import PromptFormat
    from harness.tasks import get_task
    from harness.tasks.data import TaskOptions
    from harness.tasks.helmet.icl import SETS

    beside = Path(reference.__file__).parent / "data.py"
    source = beside.read_text() if beside.is_file() else subprocess.run(
        ["git", "-C", str(MIRROR), "show", f"{COMMIT}:data.py"], check=True, capture_output=True, text=True).stdout
    tree = ast.parse(source)
    load_icl = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "load_icl")
    for call in ast.walk(load_icl):  # one process: drop `num_proc=40` (the rows are the same)
        if isinstance(call, ast.Call):
            call.keywords = [k for k in call.keywords if k.arg != "num_proc"]
    rng = random.Random(seed)
    root = Path(tempfile.mkdtemp(prefix="helmet-icl-"))
    hub: dict[str, datasets.DatasetDict] = {}
    for name, spec in SETS.items():
        if spec.folder in hub:
            continue
        label_fields = ["coarse_label", "fine_label"] if spec.folder == "trec" else [spec.label]
        sizes = {spec.train: 400} if spec.test is None else {spec.train: 300, spec.test: 700 if name == "banking77" else 40}
        splits = {}
        for split, size in sizes.items():
            rows = [{"text": f"{' '.join(rng.choices(WORDS, k=rng.randint(2, 8)))} #{split}{i}?",
                     **{f: rng.randrange(SETS['trec_fine' if f == 'fine_label' else name].labels) for f in label_fields}}
                    for i in range(size)]
            path = root / "helmet" / "icl" / spec.folder / f"{split}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(json.dumps(r) + "\n" for r in rows))
            features = {"text": datasets.Value("string"), **{f: datasets.ClassLabel(
                names=[str(i) for i in range(SETS['trec_fine' if f == 'fine_label' else name].labels)]) for f in label_fields}}
            splits[split] = datasets.Dataset.from_list(rows, features=datasets.Features(features))
        hub[spec.folder] = datasets.DatasetDict(splits)
    by_hub = {"CogComp/trec": "trec", "PolyAI/banking77": "banking77", "clinc_oos": "clinic150",
              "xingkunliuxtracta/nlu_evaluation_data": "nlu"}
    namespace: dict[str, Any] = {
        "load_dataset": lambda hub_id, *args, **kwargs: hub[by_hub[hub_id]], "datasets": datasets, "random": random,
        "math": __import__("math"), "hashlib": __import__("hashlib"), "np": __import__("numpy"),
        "parse_output": reference.parse_output, "calculate_metrics": reference.calculate_metrics}
    exec(compile(ast.Module(body=[load_icl], type_ignores=[]), "HELMET data.py:load_icl", "exec"), namespace)
    tokenizer = _any_tokenizer()
    pairs: list[tuple[float, float, str]] = []
    for name in SETS:
        for shots in [s for s in (1, 7, 150, 400) if s <= max(n, 1)]:
            data = namespace["load_icl"](f"icl_{name}_{shots}shot_balance", max_test_sample=500, seed=42)
            task = get_task(f"helmet_icl_{name}", TaskOptions(data_dir=root, args={"shots": str(shots)}))
            for index, item in enumerate(data["data"]):
                sample = task.make_sample(PromptFormat(tokenizer, chat=False), 10**7, index, 42)
                same = sample.prompt == data["prompt_template"].format(**item) and sample.targets == (item["answer"],)
                pairs.append((1.0, float(same), repr((name, shots, index))))
    return _outcome(pairs)


def check_infbench_prompts(reference: Any, n: int, seed: int) -> Outcome:
    """HELMET's own `load_infbench` (data.py; a stand-in `load_dataset` over synthetic rows in the published schema,
    its Llama-2 length filter and cut made no-ops: the rows are short) against lc-harness's helmet_infbench_qa and
    helmet_infbench_choice samples at a length that cuts nothing: prompt (no chat template), answers and order, for
    `min(n, 100)` test rows (HELMET's max_test_samples). 1 = identical."""
    import ast
    import json
    import tempfile

    import datasets

    from harness.core.prompt import PromptFormat
    from harness.tasks import get_task
    from harness.tasks.data import TaskOptions

    beside = Path(reference.__file__).parent / "data.py"
    source = beside.read_text() if beside.is_file() else subprocess.run(
        ["git", "-C", str(MIRROR), "show", f"{COMMIT}:data.py"], check=True, capture_output=True, text=True).stdout
    tree = ast.parse(source)
    load = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "load_infbench")
    load.body = [node for node in load.body if not isinstance(node, ast.ImportFrom)]  # its own `load_dataset` import
    rng = random.Random(seed)
    root = Path(tempfile.mkdtemp(prefix="helmet-infbench-"))
    splits = {}
    for split in ("longbook_qa_eng", "longbook_choice_eng"):
        rows = []
        for i in range(rng.randint(20, 40)):
            options = [" ".join(rng.choices(WORDS, k=2)) + f" {i}{c}" for c in "abcd"]
            rows.append({"id": rng.randint(0, 10**6) if i else 0, "context": f"Story {i}. " + " ".join(rng.choices(WORDS, k=30)),
                         "input": f"Question {i}: {' '.join(rng.choices(WORDS, k=4))}?",
                         "answer": [rng.choice(options)] if split.startswith("longbook_choice") else answers(rng),
                         "options": options if split.startswith("longbook_choice") else []})
        path = root / "infinitebench" / f"{split}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        splits[split] = datasets.Dataset.from_list(rows)
    namespace: dict[str, Any] = {
        "load_dataset": lambda *args, **kwargs: datasets.DatasetDict(splits), "filter_length": lambda data, *a: data,
        "Value": datasets.Value, "Sequence": datasets.Sequence, "Features": datasets.Features,
        "truncate_llama2": lambda dataset, data: data, "default_post_process": None,
        "parse_output": reference.parse_output, "calculate_metrics": reference.calculate_metrics}
    exec(compile(ast.Module(body=[load], type_ignores=[]), "HELMET data.py:load_infbench", "exec"), namespace)
    tokenizer = _any_tokenizer()
    pairs: list[tuple[float, float, str]] = []
    for kind in ("qa_eng", "choice_eng"):
        data = namespace["load_infbench"](f"infbench_{kind}_130862", shots=2, max_test_samples=min(n, 100), seed=42)
        task = get_task(f"helmet_infbench_{kind.split('_')[0]}", TaskOptions(data_dir=root))
        for index, item in enumerate(data["data"]):
            sample = task.make_sample(PromptFormat(tokenizer, chat=False), 10**7, index, 42)
            same = sample.prompt == data["prompt_template"].format(**item) and list(sample.targets) == list(item["answer"])
            pairs.append((1.0, float(same), repr((kind, index))))
    return _outcome(pairs)


def _any_tokenizer() -> Any:
    """The tiny built-in model's tokenizer (the prompts are compared as text; its counts are not used)."""
    from transformers import AutoTokenizer

    from harness.core.models import BUILTINS

    return AutoTokenizer.from_pretrained(str(BUILTINS["tiny-random"].ensure()))


def json_value(value: Any) -> str:
    import json

    return json.dumps(value)


CITE_FACTS = ("ALPHA", "BETA", "GAMMA", "DELTA", "OMEGA")


def fact_entails(premise: str, hypothesis: str) -> bool:
    """The deterministic NLI both sides get in the Cite checks: every all-caps word (3+ letters) of the hypothesis is in
    the premise (the reference's `_run_nli_autoais` is replaced by it; ours gets it as an `NLI`)."""
    import re

    return set(re.findall(r"\b[A-Z]{3,}\b", hypothesis)) <= set(re.findall(r"\b[A-Z]{3,}\b", premise))


class _FactNLI:
    name = "fact-nli"

    def entails(self, pairs: Any) -> list[bool]:
        return [fact_entails(p, h) for p, h in pairs]


def _reference_eval_alce(reference: Any) -> Any:
    """HELMET's eval_alce.py as a module (beside the loaded utils.py, else `git show COMMIT:eval_alce.py`), importing
    that utils; absent heavy modules stubbed; its NLI call is `fact_entails`, its sentence splitter ours (nltk's
    `sent_tokenize` needs punkt data this machine lacks: both sides split alike), its progress bars and logs off."""
    from harness.tasks.helmet.cite import sentence_splitter

    beside = Path(reference.__file__).parent / "eval_alce.py"
    folder = Path(tempfile.mkdtemp(prefix="helmet-alce-"))
    (folder / "eval_alce.py").write_text(beside.read_text() if beside.is_file() else subprocess.run(
        ["git", "-C", str(MIRROR), "show", f"{COMMIT}:eval_alce.py"], check=True, capture_output=True, text=True).stdout)
    for name in ("torch", "transformers", "rouge_score", "nltk"):
        try:
            importlib.import_module(name)
        except ImportError:
            stub = types.ModuleType(name)
            for attr in ("AutoModelForSeq2SeqLM", "AutoTokenizer", "pipeline", "rouge_scorer", "scoring", "sent_tokenize"):
                setattr(stub, attr, None)
            sys.modules[name] = stub
    rouge = sys.modules.get("rouge_score") or importlib.import_module("rouge_score")
    if not hasattr(rouge, "scoring"):
        rouge.scoring = None  # type: ignore[attr-defined]
    saved = sys.modules.get("utils")
    sys.modules["utils"] = reference
    sys.path.insert(0, str(folder))
    try:
        module: Any = importlib.import_module("eval_alce")
    finally:
        sys.path.remove(str(folder))
        if saved is not None:
            sys.modules["utils"] = saved
    module.sent_tokenize = sentence_splitter()[1]
    module.autoais_model, module.autoais_tokenizer = object(), object()  # "loaded": compute_autoais loads nothing
    module._run_nli_autoais = lambda passage, claim: int(fact_entails(passage, claim))
    module.logger.setLevel("WARNING")
    module.tqdm = lambda items: items
    return module


def _alce_item(dataset: str, rng: random.Random) -> tuple[dict[str, Any], str]:
    """A row of ALCE's schema (question, docs with title/text, qa_pairs or answers) and an output of many shapes:
    citations in and out of range and `[0`, several per sentence, in lists, spaced, newlines, short pieces,
    abbreviations, `<|im_end|>`, no sentence at all."""
    docs = [{"title": f"page {k}", "text": " ".join(rng.sample(CITE_FACTS, rng.randint(0, 2))) + " some words here ."}
            for k in range(rng.randint(1, 8))]
    question = f"Which {rng.choice(['river', 'TOWN', 'ALPHA'])} holds it?"

    def cites() -> str:
        marks = [f"[{rng.randint(0, len(docs) + 2)}]" for _ in range(rng.choice([0, 1, 1, 2, 3, 4]))]
        listed = "[" + ", ".join(m.strip("[]") for m in marks) + "]" if marks else ""
        return rng.choice(["".join(marks), " ".join(marks), listed])

    def claim() -> str:
        facts = " and ".join(rng.sample(CITE_FACTS, rng.randint(0, 2))) or "nothing"
        return rng.choice([f"It says {facts}", f"Mr. Lee saw {facts} in the U.S", facts, "ok", f"{facts} too"])

    if dataset == "qampari":
        answers = [[rng.choice(CITE_FACTS).title(), rng.choice(["x", "y"])] for _ in range(rng.randint(1, 8))]
        pieces = [f"{rng.choice([a[0] for a in answers] + ['Zeta', 'the Beta'])} {cites()}" for _ in range(rng.randint(0, 7))]
        output = rng.choice([", ", ",", ",\n"]).join(pieces) + rng.choice(["", ".", ",", " .", "<|im_end|>"])
        return {"question": question, "answers": answers, "docs": docs}, output
    qa_pairs = [{"short_answers": rng.sample([f.title() for f in CITE_FACTS] + ["the U.S."], rng.randint(1, 2))}
                for _ in range(rng.randint(1, 3))]
    output = rng.choice([" ", "\n", "\n\n", ""]).join(f"{claim()} {cites()}." for _ in range(rng.randint(0, 5)))
    return {"question": question, "qa_pairs": qa_pairs, "docs": docs}, output + rng.choice(["", "<|im_end|>", "\n"])


def check_cite(dataset: str) -> Callable[[Any, int, int], Outcome]:
    """HELMET Cite on `dataset` (asqa, qampari): eval_alce.py's str_em / qampari_rec_top5, citation_rec and
    citation_prec of each generated item (its main()'s output cleaning, its per-item compute_* calls) against
    `cite.score_parts`; n counts (item, metric) pairs, the means are the Cite score (the three metrics' mean, each
    aggregated as the reference aggregates it: citation means over outputs with a sentence)."""

    def check(reference: Any, n: int, seed: int) -> Outcome:
        import contextlib
        import io
        import re

        from harness.tasks.helmet.cite import DATASETS, score_parts

        ref = _reference_eval_alce(reference)
        first = DATASETS[dataset][1]
        rng = random.Random(seed)
        items = [_alce_item(dataset, rng) for _ in range(n)]
        ours = [score_parts(dataset, row, output, _FactNLI()) for row, output in items]
        data = [{**row, "output": re.sub(r"\n+", " ", output).replace("<|im_end|>", "")} for row, output in items]
        qampari = dataset == "qampari"
        differ: list[str] = []
        theirs_first = []
        with contextlib.redirect_stdout(io.StringIO()):  # compute_autoais prints its multi-citation shares
            for (row, output), item, mine in zip(items, data, ours):
                normalized = {**item, "output": reference.remove_citations(item["output"])}
                top = ref.compute_qampari_f1([normalized])[first] if qampari else ref.compute_str_em([normalized])[0]
                cited = ref.compute_autoais([item], qampari=qampari, at_most_citations=3)
                theirs_first.append(float(top))
                for metric, value in ((first, top), ("citation_rec", cited["citation_rec"]), ("citation_prec", cited["citation_prec"])):
                    if abs(float(mine[metric]) - float(value)) > 1e-9:
                        differ.append(repr((metric, output, row["docs"], mine[metric], value)))
            whole = ref.compute_autoais(data, qampari=qampari, at_most_citations=3)
        counted = [o for o in ours if o["citation_counted"]] or [{"citation_rec": 0.0, "citation_prec": 0.0}]
        ours_cite = (sum(float(o[first]) for o in ours) / n + sum(float(o["citation_rec"]) for o in counted) / len(counted)
                     + sum(float(o["citation_prec"]) for o in counted) / len(counted)) / 3
        theirs_cite = (sum(theirs_first) / n + float(whole["citation_rec"]) + float(whole["citation_prec"])) / 3
        return Outcome(3 * n, len(differ), ours_cite, theirs_cite, differ[:5])

    return check


CHECKS: dict[str, Callable[[Any, int, int], Outcome]] = {
    "substring_exact_match": check_substring_exact_match,
    "NDCG@10": check_ndcg_at_10,
    "icl exact_match": check_icl_exact_match,  # ICL and LongQA checks (tasks/helmet/icl.py, longqa.py)
    "rougeL_f1": check_rouge_l_f1,
    "choice exact_match": check_choice_exact_match,
    "longqa judge": check_longqa_judge,
    "icl prompts": check_icl_prompts,
    "infbench prompts": check_infbench_prompts,
    "alce_asqa cite": check_cite("asqa"),  # Cite (tasks/helmet/cite.py): 3 metrics per item, same fake NLI both sides
    "alce_qampari cite": check_cite("qampari"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reference", type=Path, default=MIRROR, help="HELMET's bare git dir, or a folder with utils.py")
    parser.add_argument("--commit", default=COMMIT)
    parser.add_argument("--n", type=int, default=2000, help="predictions per check")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="*", default=None, help="run only these checks")
    args = parser.parse_args()
    reference = load_reference(args.reference, args.commit)
    print(f"{'metric':24} {'n':>6} {'reference':>10} {'lc-harness':>10} {'differ':>7}")
    total = 0
    for name, check in CHECKS.items():
        if args.only and name not in args.only:
            continue
        outcome = check(reference, args.n, args.seed)
        total += outcome.differ
        print(f"{name:24} {outcome.n:>6} {outcome.theirs:>10.2f} {outcome.ours:>10.2f} {outcome.differ:>7}")
        for example in outcome.examples:
            print(f"    {example}")
    print(f"disagreements: {total}")
    sys.exit(1 if total else 0)


if __name__ == "__main__":
    main()
