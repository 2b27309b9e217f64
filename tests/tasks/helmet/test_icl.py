"""HELMET's ICL tasks on small files of the hub schemas: the reference's prompt, per-example label mapping and
label-balanced demos, shots that fill each length exactly, HELMET's shuffles reproduced, its exact-match scoring,
and bad files named."""

from __future__ import annotations

import json
import re
from collections import Counter as Tally
from pathlib import Path

import pytest

from harness.core.errors import HarnessError
from harness.core.prompt import PromptFormat
from harness.tasks import HELMET_ICL, get_task
from harness.tasks.data import TaskOptions
from harness.tasks.helmet import icl
from harness.tasks.helmet.fit import shuffled
from harness.tasks.helmet.qa_metrics import icl_exact_match
from tests.tasks.helmet.icl_fixtures import write_icl, write_jsonl

INSTRUCTION = ('Use the provided mapping from the text to label to assign a label to the text. Only output "label: {label}" '
               "and nothing else. \n\n")


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return write_icl(tmp_path_factory.mktemp("helmet"))


def task(root: Path, name: str = "trec_coarse", **args: str):  # type: ignore[no-untyped-def]
    return get_task(f"helmet_icl_{name}", TaskOptions(data_dir=root, args=dict(args)))


def demo_labels(prompt: str) -> list[str]:
    return re.findall(r"\nlabel: (\d+)(?=\n\n)", prompt)


def test_registry_follows_the_datasets() -> None:
    assert HELMET_ICL == icl.DATASETS


def test_prompt_is_helmets_with_the_example_own_label_mapping(root, tokenizer) -> None:
    fmt = PromptFormat(tokenizer, chat=False)
    t = task(root)
    sample = t.make_sample(fmt, 1024, 3, 42)
    question, label = icl.IclData("trec_coarse", TaskOptions(data_dir=root), t.options).pool(42).test[3]
    mapping = icl.label_mapping(6, icl.local_seed(question, 42))
    assert sample.prompt.startswith(INSTRUCTION) and sample.prompt.endswith(f"\n\n{question}\nlabel:")
    assert sample.targets == (str(mapping[label]),) and sorted(mapping) == list(range(6))
    demos = icl.balance_labels(icl.IclData("trec_coarse", TaskOptions(data_dir=root), t.options).pool(42).groups,
                               sample.meta["units"], icl.local_seed(question, 42))
    body = "\n\n".join(f"{text}\nlabel: {mapping[lab]}" for text, lab in demos)
    assert sample.prompt == INSTRUCTION + body + f"\n\n{question}\nlabel:"
    assert t.stop == ("\n",) and t.max_new_tokens == 20 and t.chat is False and t.num_samples == 500


@pytest.mark.parametrize("name", icl.DATASETS)
def test_shots_fill_each_length_exactly(root, tokenizer, name) -> None:
    fmt = PromptFormat(tokenizer, chat=False)
    t = task(root, name)
    shots = []
    for length in (512, 1024, 2048, 4096):
        sample = t.make_sample(fmt, length, 1, 42)
        budget = t.prompt_budget(length)
        assert budget == length - 20
        assert sample.prompt_tokens == fmt.count(sample.prompt) <= budget
        assert len(demo_labels(sample.prompt + "\n\n")) == sample.meta["units"]
        one_more = task(root, name, shots=str(sample.meta["units"] + 1)).make_sample(fmt, length, 1, 42)
        assert one_more.skipped and fmt.count(one_more.prompt) > budget  # the next shot would not fit
        shots.append(sample.meta["units"])
    assert shots == sorted(shots) and shots[-1] > 4 * shots[0]


def test_demos_are_label_balanced(root, tokenizer) -> None:
    fmt = PromptFormat(tokenizer, chat=False)
    for name, labels in (("trec_coarse", 6), ("banking77", 77)):
        sample = task(root, name).make_sample(fmt, 4096, 0, 42)
        counts = Tally(demo_labels(sample.prompt + "\n\n"))
        assert max(counts.values()) - min(counts.values()) <= 1 and len(counts) == min(labels, sample.meta["units"])
    groups = ((("a", 0),) * 3, (("b", 1),) * 5, (("c", 2),) * 1)
    for shots in (0, 1, 4, 9, 30):
        drawn = icl.balance_labels(groups, shots, 7)
        assert len(drawn) == shots
        counts = Tally(label for _, label in drawn)
        assert not shots or max(counts.values()) - min(counts.values()) <= 1  # label c repeats once exhausted
        assert drawn == icl.balance_labels(groups, shots, 7)


def test_fixed_shots_are_helmets_demos(root, tokenizer) -> None:
    fmt = PromptFormat(tokenizer, chat=False)
    sample = task(root, "trec_fine", shots="7").make_sample(fmt, 4096, 2, 42)
    assert sample.meta["units"] == 7 and len(demo_labels(sample.prompt + "\n\n")) == 7 and not sample.skipped
    with pytest.raises(HarnessError, match="shots=-1"):
        task(root, "trec_fine", shots="-1")


def test_the_helmet_folder_option_finds_icl(root, tokenizer) -> None:
    fmt = PromptFormat(tokenizer, chat=False)
    via_helmet = get_task("helmet_icl_nlu", TaskOptions(args={"helmet": str(root / "helmet")}))
    assert via_helmet.make_sample(fmt, 1024, 0, 42) == task(root, "nlu").make_sample(fmt, 1024, 0, 42)
    assert via_helmet.data().location == str((root / "helmet/icl/nlu/train.jsonl").resolve())


def test_samples_are_deterministic(root, tokenizer) -> None:
    fmt = PromptFormat(tokenizer, chat=False)
    t = task(root, "banking77")
    first = t.make_sample(fmt, 2048, 5, 42)
    assert first == task(root, "banking77").make_sample(fmt, 2048, 5, 42)
    assert first.prompt != t.make_sample(fmt, 2048, 6, 42).prompt
    assert first.prompt != t.make_sample(fmt, 2048, 5, 43).prompt  # another seed: other demos and test order


def test_helmet_shuffles_are_reproduced(root) -> None:
    import datasets

    rows = [{"text": f"t{i}", "label": i % 7} for i in range(101)]
    data = datasets.Dataset.from_list(rows)
    assert [r["text"] for r in data.shuffle(seed=42)] == [rows[i]["text"] for i in shuffled(101, 42)]
    split = data.train_test_split(test_size=0.1, seed=42)
    train, test = icl.train_test_split([(r["text"], r["label"]) for r in rows], 42)
    assert [r["text"] for r in split["test"]] == [t for t, _ in test]
    assert [r["text"] for r in split["train"]] == [t for t, _ in train]


def test_test_sets_follow_helmet(root) -> None:
    options = TaskOptions(data_dir=root)
    banking = icl.IclData("banking77", options, icl.HelmetIclOptions())
    pool = banking.pool(42)
    assert len(pool.test) == banking.size() == 500  # 600 test rows: shuffled, then balanced to 500
    assert Tally(label for _, label in pool.test) == {label: 100 for label in range(5)}
    trec = icl.IclData("trec_coarse", options, icl.HelmetIclOptions())
    assert [t for t, _ in trec.pool(42).test] == [json.loads(line)["text"] for line in
                                                  (root / "helmet/icl/trec/test.jsonl").read_text().splitlines()]
    nlu = icl.IclData("nlu", options, icl.HelmetIclOptions())
    assert nlu.size() == len(nlu.pool(42).test) == 30  # 10% of its one split


def test_scoring_parses_after_label(root, tokenizer) -> None:
    fmt = PromptFormat(tokenizer, chat=False)
    t = task(root)
    sample = t.make_sample(fmt, 512, 0, 42)
    right, wrong = sample.targets[0], str((int(sample.targets[0]) + 1) % 6)
    assert t.score(sample, f" {right}") == 100.0
    assert t.score(sample, f" label: {right}") == 100.0  # a repeated prefix is stripped
    assert t.score(sample, f" {wrong}") == 0.0 and t.score(sample, "") == 0.0
    assert t.score(sample, f" {right}.") == 100.0  # normalised: punctuation dropped
    assert icl_exact_match("label:\n3", "3") == 0.0  # the rest of the label's line only
    chat_sample = t.make_sample(PromptFormat(tokenizer, chat=True), 512, 0, 42) if tokenizer.chat_template else None
    assert chat_sample is None or t.score(chat_sample, f"label: {right}") == 100.0


def test_bad_files_name_file_and_field(tmp_path) -> None:
    base = write_icl(tmp_path)
    icl.read_split.cache_clear()
    write_jsonl(base / "helmet/icl/trec/train.jsonl", [{"text": "x", "coarse_label": 0, "fine_label": 1}, {"text": "y"}])
    with pytest.raises(HarnessError, match=r"trec/train.jsonl:2: missing field 'coarse_label'"):
        task(base).preflight()
    write_jsonl(base / "helmet/icl/banking77/test.jsonl", [{"text": "x", "label": 77}])
    with pytest.raises(HarnessError, match=r"banking77/test.jsonl:1: field 'label' is 77: expected a label id 0..76"):
        task(base, "banking77").size()
    write_jsonl(base / "helmet/icl/nlu/train.jsonl", [{"text": 5, "label": 1}])
    with pytest.raises(HarnessError, match=r"nlu/train.jsonl:1: field 'text'"):
        task(base, "nlu").size()
    (base / "helmet/icl/clinic150/validation.jsonl").unlink()
    with pytest.raises(HarnessError, match=r"clinic150/validation.jsonl does not exist"):
        task(base, "clinic150").size()
    with pytest.raises(HarnessError, match=r"no folder .*/nlu/trec \(expected trec/train.jsonl, test.jsonl\)"):
        task(tmp_path / "empty", helmet_icl=str(base / "helmet" / "icl" / "nlu")).size()


def test_a_run_scores_the_labels_and_stops_at_a_newline(root, tokenizer, tmp_path) -> None:
    from harness.runner import EvalConfig, evaluate
    from tests.fakes import ScriptedBackend

    config = EvalConfig(model="scripted", tasks=["helmet_icl_trec_coarse"], lengths=[512, 1024], data_dir=str(root), limit=4)
    fmt = PromptFormat(tokenizer, chat=False)
    samples = [task(root).make_sample(fmt, 512, i, 42) for i in range(4)]
    targets = {s.prompt.rsplit("\n\n", 1)[1]: s.targets[0] for s in samples}  # the question line and `label:`
    model = ScriptedBackend(tokenizer, answer=lambda r: " " + targets[r.text.rsplit("\n\n", 1)[1]])
    _, result = evaluate(config, model, tmp_path / "out", None)
    cells = result.results["helmet_icl_trec_coarse"]
    assert cells["512"]["score"] == cells["1024"]["score"] == 100.0 and cells["512"]["n"] == 4
    assert cells["512"]["metric"] == "exact_match"
    assert all(r.stop == ("\n",) and r.max_tokens == 20 for r in model.requests)
