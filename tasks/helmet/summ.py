"""HELMET's summarization category (princeton-nlp/HELMET @4526dfb): InfiniteBench Sum (`helmet_infbench_sum`) and
Multi-LexSum (`helmet_multi_lexsum`), scored by an LLM judge with HELMET's key-point protocol.

Prompts as `data.py` (`load_infbench`, `load_multi_lexsum`): the user template with two demo summaries (`shots`),
the answer prefix "Summary:" only without a chat template, 1200 / 400 new tokens (configs/summ.yaml). The document
is cut to the length's prompt budget (`--truncate`, the project's real-document flow), so prompt + generation <= L.

Judging as `scripts/eval_gpt4_summ.py`: per summary a fluency call (0/1), a recall call (how many of the gold key
points the summary supports) and a precision call (how many of the summary's sentences the gold summary supports,
out of how many); F1 of recall and precision times fluency, x100, is the sample's score. The key points ship with
HELMET's data (they are read, never extracted; `source.py` finds HELMET's data/ folder): `summary/short_keypoints` of
`multi_lexsum/multi_lexsum_val.jsonl` (or of the evaluated row itself), and `infbench/longbook_sum_eng_keypoints.jsonl`
(`id`, `keypoints`). The prompts are `summ_judge.toml`.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable, ClassVar

from harness.core.errors import HarnessError
from harness.core.resources import toml_beside
from harness.core.types import Sample, ScoredSample
from harness.tasks.base import Counter, JudgeCall, JudgeSpec, Metric, MultiJudge, Reading, Task, mean
from harness.tasks.data import TaskOptions
from harness.tasks.docsource import DocSource, Rows
from harness.tasks.helmet.source import FOLDER, HelmetOptions, read_rows
from harness.tasks.infinitebench.task import SOURCE as INFINITEBENCH
from harness.tasks.realdoc import DocFlow, Rendered
from harness.tasks.truncation import check_mode

MULTI_LEXSUM_HUB = "allenai/multi_lexsum"  # config v20230518, as load_multi_lexsum
# Its loading script no longer runs under `datasets` 5; the hub's parquet conversion (refs/convert/parquet) holds the
# same rows, as for HELMET's ICL sets. A branch, not a commit: no commit could be verified online from here.
MULTI_LEXSUM_REVISION = "refs/convert/parquet"
DEMO_SEED = 42  # HELMET's default --seed; the demos of a sample depend on its index only (the same at every length)
JUDGE_TRIES = 3  # an unreadable verdict is asked again (the reference skips the sample instead)
CALLS = ("fluency", "recall", "precision")
FIELDS = {"fluency": ("fluency",), "recall": ("recall",), "precision": ("precision", "sentence_count")}


def prompts() -> dict[str, Any]:
    """HELMET's task templates and judge prompts (`summ_judge.toml` beside this file)."""
    return toml_beside(__file__, "summ_judge.toml")


# -- data ----------------------------------------------------------------------------------------------------


def _multi_lexsum_hub(split: str, revision: str | None) -> Any:
    import datasets

    return datasets.load_dataset(MULTI_LEXSUM_HUB, name="v20230518", split=split, revision=revision)


@dataclass(frozen=True)
class _HelmetSource(DocSource):
    """A dataset's files in `--task-args <folder>=DIR`, else `<HELMET folder>/<folder>/` (`helmet=DIR`, `D/helmet`)."""

    def local_dir(self, options: TaskOptions) -> Path | None:
        given = options.find_optional(self.folder, f"{FOLDER}/{self.folder}", self.benchmark)
        root = options.args.get(FOLDER)
        if given is None and root and (Path(str(root)).expanduser() / self.folder).is_dir():
            return Path(str(root)).expanduser() / self.folder
        return given

    def from_hub(self, name: str) -> Rows:
        try:
            return super().from_hub(name)
        except HarnessError as error:  # the same error, naming this dataset's local layout
            raise HarnessError(f"{str(error).split('; pass --data-dir')[0]}; pass --data-dir D with "
                               f"D/{FOLDER}/{self.folder}/{self.file_name(name)} (the hub's rows as jsonl) or "
                               f"--task-args {self.folder}=DIR") from error


MULTI_LEXSUM = _HelmetSource(
    "HELMET Multi-LexSum", "multi_lexsum", lambda split: f"{split}.jsonl", _multi_lexsum_hub,
    (("id", (str, int)), ("sources", list), ("summary/short", (str, type(None)))),
    (("summary/long", (str, type(None))), ("summary/short_keypoints", (list, type(None)))), hub_id=MULTI_LEXSUM_HUB,
    revision=MULTI_LEXSUM_REVISION)


def _with_short_summary(rows: Rows) -> Rows:
    """The rows that have a short summary (load_multi_lexsum's filter)."""
    return Rows(tuple(r for r in rows.rows if r.get("summary/short") is not None), rows.source, rows.digest, rows.origin)


INFBENCH_KEYPOINTS = "infbench/longbook_sum_eng_keypoints.jsonl"  # HELMET's data/ files eval_gpt4_summ.py reads
MULTI_LEXSUM_KEYPOINTS = "multi_lexsum/multi_lexsum_val.jsonl"


def keypoint_rows(options: TaskOptions, relative: str, field: str) -> Rows:
    """A HELMET key point file (`source.read_rows`: `--task-args helmet=DIR`, `D/helmet/`, else the hub archive)."""
    return read_rows(options, relative, (("id", (int, str)), (field, list)))


def keypoints_by_id(options: TaskOptions, relative: str, field: str) -> dict[str, list[str]]:
    """Example id -> its key points."""
    return {str(row["id"]): [str(k) for k in row[field]] for row in keypoint_rows(options, relative, field).rows}


# -- prompts -------------------------------------------------------------------------------------------------


def _demo(kind: str, summaries: list[str]) -> str:
    """The demo block of `load_multi_lexsum` / `load_infbench` around the chosen gold summaries ("" for none)."""
    if not summaries:
        return ""
    spec = prompts()["task"][kind]
    return str(spec["demo"]).format(summaries="\n\n".join(str(spec["demo_item"]).format(summary=s) for s in summaries))


def _pick(pool: list[str], shots: int, task: str, index: int) -> list[str]:
    """`shots` distinct summaries from `pool`, the same for a sample at every length."""
    if shots > len(pool):
        raise HarnessError(f"HELMET {task}: {shots} demo summaries asked for, {len(pool)} available")
    return random.Random(f"{task}|{index}|{DEMO_SEED}").sample(pool, shots)


def _build(kind: str, demo: str, chat: bool, context: str) -> str:
    """The prompt around a (cut) document: the user template; with no chat template, then "\\n\\nSummary:"."""
    spec = prompts()["task"][kind]
    user = str(spec["user"]).format(demo=demo, context=context)
    return user if chat else f"{user}\n\n{spec['answer_prefix']}"


def render_infbench(options: TaskOptions, shots: int, row: dict[str, Any], index: int, counter: Counter) -> Rendered:
    """One InfiniteBench Sum book: demos are other books' gold summaries (`[story text]` standing for the book)."""
    rows = INFINITEBENCH.load(options, "longbook_sum_eng").rows
    pool = [str(r["answer"][0] if isinstance(r["answer"], list) else r["answer"]).strip() for i, r in enumerate(rows) if i != index]
    demo = _demo("infbench_sum", _pick(pool, shots, "infbench_sum", index))
    answers = row["answer"] if isinstance(row["answer"], list) else [row["answer"]]
    keypoints = keypoints_by_id(options, INFBENCH_KEYPOINTS, "keypoints").get(str(row.get("id", index)))
    if keypoints is None:
        raise HarnessError(f"HELMET InfiniteBench Sum: no key points for id {row.get('id', index)} in HELMET's data/{INFBENCH_KEYPOINTS}")
    build = partial(_build, "infbench_sum", demo, bool(getattr(counter, "chat", False)))
    return Rendered(row["context"], tuple(str(a) for a in answers), {"example_id": row.get("id", index), "keypoints": keypoints}, build)


def multi_lexsum_rows(options: TaskOptions, split: str) -> Rows:
    """A Multi-LexSum split (`validation`: the evaluated cases; `train`: the demo summaries), rows without a short
    summary left out."""
    return _with_short_summary(MULTI_LEXSUM.load(options, split))


def render_multi_lexsum(options: TaskOptions, shots: int, row: dict[str, Any], index: int, counter: Counter) -> Rendered:
    """One case: its sources joined by blank lines; demos are training cases' short summaries."""
    pool = [str(r["summary/short"]) for r in multi_lexsum_rows(options, "train").rows] if shots else []
    demo = _demo("multi_lexsum", _pick(pool, shots, "multi_lexsum", index))
    keypoints, expert = row.get("summary/short_keypoints"), row.get("summary/long")
    if keypoints is None:  # not in the row (the hub's rows): HELMET's file of the validation split with key points
        keypoints = keypoints_by_id(options, MULTI_LEXSUM_KEYPOINTS, "summary/short_keypoints").get(str(row["id"]))
    if not isinstance(keypoints, list) or not isinstance(expert, str):
        lacking = "'summary/long'" if isinstance(keypoints, list) else "'summary/short_keypoints'"
        raise HarnessError(f"HELMET Multi-LexSum case {row['id']}: no {lacking} (in its row, or by id in HELMET's "
                           f"data/{MULTI_LEXSUM_KEYPOINTS})")
    build = partial(_build, "multi_lexsum", demo, bool(getattr(counter, "chat", False)))
    meta = {"example_id": row["id"], "keypoints": [str(k) for k in keypoints], "expert_summary": expert}
    return Rendered("\n\n".join(str(s) for s in row["sources"]), (str(row["summary/short"]),), meta, build)


# -- the judge -----------------------------------------------------------------------------------------------


def parse_json(text: str) -> Any:
    """The reference's `parse_json`: the last `{...}` of the reply (or of a ```json block) as JSON; None if none."""
    matches = re.findall(r"\{.*?\}", text, re.DOTALL)
    if not matches:
        return None
    try:
        return json.loads(matches[-1])
    except ValueError:
        blocks = re.findall(r"(?:```json)(.+)(?:```)", text, re.DOTALL)
        try:
            return json.loads(blocks[-1]) if blocks else None
        except ValueError:
            return None


def reader(name: str, reply: str) -> Reading | None:
    """The numbers call `name` asks for (fluency; recall; precision and sentence_count); None when the reply's JSON
    lacks one or it is not a number (the reference would skip the sample)."""
    found = parse_json(reply)
    if not isinstance(found, dict):
        return None
    values = {key: found.get(key) for key in FIELDS[name]}
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values.values()):
        return None
    return {key: float(v) for key, v in values.items() if isinstance(v, (int, float))}


def expert_summary(sample: Sample) -> str:
    """What the precision call compares against: Multi-LexSum's long summary, InfiniteBench's gold summary."""
    return str(sample.meta.get("expert_summary") or sample.targets[0])


def judge_calls(kind: str, sample: Sample, output: str) -> list[JudgeCall]:
    """The three judge prompts for one summary (`eval_gpt4_summ.py`'s `check_metrics`), each one user message."""
    spec = prompts()["judge"][kind]
    keypoints = "\n".join(f"{i + 1}. {kp}" for i, kp in enumerate(sample.meta["keypoints"]))
    texts = {
        "fluency": spec["fluency"].format(text=output),
        "recall": spec["recall"].format(keypoints=keypoints, summary=output),
        "precision": spec["precision"].format(expert_summary=expert_summary(sample), summary=output),
    }
    return [JudgeCall(name, [{"role": "user", "content": texts[name]}], partial(reader, name)) for name in CALLS]


def combine(sample: Sample, readings: dict[str, Reading | None]) -> tuple[float | None, dict[str, Any]]:
    """The reference's arithmetic: recall = found / key points, precision = supported / sentences (0 when a
    denominator is 0), f1 x fluency; the score is that x100. None when a verdict stayed unreadable."""
    missing = [name for name in CALLS if readings.get(name) is None]
    if missing:
        return None, {"unreadable": missing}
    fluency, found, prec = (readings[n] or {} for n in CALLS)
    total = len(sample.meta["keypoints"])
    recall = found["recall"] / total if total > 0 else 0.0
    precision = prec["precision"] / prec["sentence_count"] if prec["sentence_count"] > 0 else 0.0
    f1 = fluency["fluency"] * 2 * recall * precision / (recall + precision) if recall + precision > 0 else 0.0
    details = {"fluency": fluency["fluency"], "recall_total": total, "recall_found": found["recall"],
               "precision_total": prec["sentence_count"], "precision_found": prec["precision"],
               "recall": recall, "precision": precision, "f1": f1}
    return 100.0 * f1, details


def report(records: list[ScoredSample], output: Path) -> dict[str, Any]:
    """Per length, HELMET's averaged metrics (x100) over the samples with a full verdict, and how many had none."""
    by_length: dict[str, list[ScoredSample]] = {}
    for record in records:
        by_length.setdefault(str(record.length), []).append(record)
    out: dict[str, Any] = {}
    for length, rs in sorted(by_length.items(), key=lambda kv: int(kv[0])):
        scored = [r.meta["judge_details"] for r in rs if isinstance(r.meta.get("judge_details"), dict) and "f1" in r.meta["judge_details"]]
        out[length] = {f"judge_{key}": round(100 * mean([float(d[key]) for d in scored]), 4) for key in ("recall", "precision", "fluency", "f1")}
        out[length].update(samples=len(rs), judge_failed=sum(bool(r.meta.get("judge_failed")) for r in rs))
    return out


def _needs_judge(name: str, output: str, targets: object) -> float:
    raise HarnessError(f"{name} is scored by an LLM judge with HELMET's key-point protocol: pass --judge MODEL "
                       "(a built-in, a checkpoint, vllm:PATH, or openai:NAME with --judge-base-url)")


# -- the tasks -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SummOptions(HelmetOptions):
    """HELMET summarization's `--task-args`: HELMET's data folder (`helmet`: the key points), the cut (`truncate`),
    demo summaries (`shots`, 2) and the judge's generation budget (`judge_max_tokens`, the reference's 4096)."""

    shared: ClassVar[frozenset[str]] = frozenset({FOLDER, "truncate", "shots"})

    truncate: str = "middle"
    shots: int = 2
    judge_max_tokens: int = 4096

    def check(self) -> None:
        check_mode(self.truncate)
        if self.shots < 0 or self.judge_max_tokens < 1:
            raise HarnessError(f"bad --task-args: shots={self.shots}, judge_max_tokens={self.judge_max_tokens} "
                               "(expected shots >= 0, judge_max_tokens >= 1)")


@dataclass(frozen=True)
class InfbenchSumOptions(SummOptions):
    """Also: InfiniteBench's folder (`infinitebench`; default `D/infinitebench/`, else the hub)."""

    infinitebench: str | None = None


@dataclass(frozen=True)
class MultiLexSumOptions(SummOptions):
    """Also: the folder of `validation.jsonl` and `train.jsonl` (`multi_lexsum`; default `D/helmet/multi_lexsum/`)."""

    multi_lexsum: str | None = None


def _task(name: str, kind: str, flow: DocFlow, rows: Callable[[], Rows], opts: SummOptions, digest: Callable[[], str],
          check: Callable[[], None]) -> Task:
    """One summarization task: judged (required), with HELMET's averaged metrics in `reports`."""
    max_new_tokens = int(prompts()["task"][kind]["max_new_tokens"])
    return Task(
        name=name,
        make_sample=flow.make_sample,
        metric=Metric("judge_f1", partial(_needs_judge, name)),
        max_new_tokens=max_new_tokens,
        chat=True,
        num_samples=10**9,  # every example, unless --limit (HELMET's max_test_samples is 100)
        params={"benchmark": "helmet", "task": kind, "truncate": opts.truncate, "shots": opts.shots},
        judge=JudgeSpec(max_tokens=opts.judge_max_tokens, tries=JUDGE_TRIES, required=True,
                        multi=MultiJudge(partial(judge_calls, kind), combine)),
        report=report,
        size=lambda: len(rows().rows),
        data_digest=digest,
        data_source=lambda: rows().origin,
        check=check,
        options=opts,
        halve_generation=True,
    )


def infbench_sum_task(options: TaskOptions) -> Task:
    """HELMET's InfiniteBench Sum (longbook_sum_eng, InfiniteBench's files or hub)."""
    opts = InfbenchSumOptions.parse(options.args)
    rows = partial(INFINITEBENCH.load, options, "longbook_sum_eng")
    flow = DocFlow("helmet_infbench_sum", "HELMET InfiniteBench Sum", rows, partial(render_infbench, options, opts.shots),
                   int(prompts()["task"]["infbench_sum"]["max_new_tokens"]), opts.truncate)
    def digest() -> str:
        return f"{rows().digest}-{keypoint_rows(options, INFBENCH_KEYPOINTS, 'keypoints').digest}"

    def check() -> None:
        keypoint_rows(options, INFBENCH_KEYPOINTS, "keypoints")

    return _task("helmet_infbench_sum", "infbench_sum", flow, rows, opts, digest, check)


def multi_lexsum_task(options: TaskOptions) -> Task:
    """HELMET's Multi-LexSum (validation cases, demos from train)."""
    opts = MultiLexSumOptions.parse(options.args)
    rows = partial(multi_lexsum_rows, options, "validation")
    flow = DocFlow("helmet_multi_lexsum", "HELMET Multi-LexSum", rows, partial(render_multi_lexsum, options, opts.shots),
                   int(prompts()["task"]["multi_lexsum"]["max_new_tokens"]), opts.truncate)

    def digest() -> str:
        train = multi_lexsum_rows(options, "train").digest if opts.shots else ""
        return f"{rows().digest}-{train}"

    def check() -> None:
        if opts.shots:
            multi_lexsum_rows(options, "train")

    return _task("helmet_multi_lexsum", "multi_lexsum", flow, rows, opts, digest, check)
