"""The order work is sent in, as units: each unit a list of batches that one model worker runs in turn.

Two schedules (`--schedule`):

- `prefix` (the default): prompts that share a long prefix (the classic NIAH grid, where every depth at one length
  shares the haystack up to its needle; RULER's repeated noise haystacks; a document's questions; MMLU's few-shot
  examples) are put side by side and kept together in one unit, so one worker sends them in order and an engine
  with a prefix cache computes the shared part once: vLLM's automatic prefix caching for generated prompts, the
  hf backend's key/value reuse for multiple-choice items (vLLM 0.32 does not read its prefix cache for a request
  that asks for prompt logprobs, so MMLU on vLLM gains nothing from the order: bench/prefix_cache.py).
  Prompts are sorted by their rendered text (the order a walk of their prefix tree gives: neighbours share the
  longest prefixes); a run of neighbours each sharing at least `PREFIX_CHARS` characters with the next is a
  group; its longest prompt goes first, and a group longer than `UNIT_ITEMS` (or the batch size) is cut into the
  fewest pieces of whole batches, at most that many items each, the batches shared out evenly (at batch size 1, 10
  items give 5 and 5, not 8 and 2, so a small run's units share evenly among workers). Groups, longest prompt first,
  are packed into units of at most that many samples (small groups share a unit, so batches stay full; the units do
  not depend on how many workers there are). Units go out in turn,
  longest prompts first across all workers, so a run does not end on one long straggler and an out-of-memory error
  shows at once; the multiple-choice units (scored by loglikelihood) come after the generated ones.
- `length`: the earlier order: longest prompts first, then multiple-choice items task by task in sample order; every
  batch its own unit.

Either way each sample is computed exactly once and its result does not depend on the order (greedy decoding, one
request per batch): the schedule changes speed, not scores.
"""

from __future__ import annotations

from typing import Iterator, Literal, Sequence

from harness.core.errors import HarnessError
from harness.runner.plan import WorkItem

Schedule = Literal["prefix", "length"]
SCHEDULES: tuple[str, ...] = ("prefix", "length")
PREFIX_CHARS = 1024  # about 256 tokens: 16 of vLLM's 16-token cache blocks
UNIT_ITEMS = 8  # the most samples one unit holds (or one batch): small, so that even a small run keeps every worker busy

Unit = list[list[WorkItem]]  # batches that one worker runs in order


def check_schedule(value: object) -> Schedule:
    """`--schedule`'s value, else an error naming the choices."""
    if value == "prefix":
        return "prefix"
    if value == "length":
        return "length"
    raise HarnessError(f"bad --schedule {value!r}: expected {' or '.join(SCHEDULES)}")


def batches(work: list[WorkItem], size: int) -> Iterator[list[WorkItem]]:
    """The `length` order: longest prompts first, so an out-of-memory error shows in the first batch; multiple-choice
    items after them, task by task in sample order, so a backend can reuse a task's shared prompt prefix (few-shot
    examples) from one batch to the next."""
    ordered = sorted(work, key=lambda item: (bool(item.sample.choices), -item.prompt_tokens if not item.sample.choices else 0,
                                             item.sample.task, item.sample.index, item.sample.id))
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def units(work: list[WorkItem], batch_size: int, schedule: Schedule = "prefix") -> list[Unit]:
    """The work as units in the order they are handed out; each unit's items cut into batches of `batch_size`."""
    if schedule == "length":
        return [[batch] for batch in batches(work, batch_size)]
    cap = max(UNIT_ITEMS, batch_size)
    generated = [item for item in work if not item.sample.choices]
    chosen = [item for item in work if item.sample.choices]
    out: list[Unit] = []
    for items in (generated, chosen):
        groups = [chunk for group in prefix_groups(items) for chunk in _chunks(group, cap, batch_size)]
        groups.sort(key=lambda group: (-max(item.prompt_tokens for item in group), _key(group[0])))
        for packed in _pack(groups, cap):
            out.append([packed[i : i + batch_size] for i in range(0, len(packed), batch_size)])
    return out


def _pack(groups: list[list[WorkItem]], cap: int) -> list[list[WorkItem]]:
    """Consecutive groups joined into units of at most `cap` items (a group is never split between units), so that
    small groups still fill whole batches."""
    packed: list[list[WorkItem]] = []
    for group in groups:
        if packed and len(packed[-1]) + len(group) <= cap:
            packed[-1] += group
        else:
            packed.append(list(group))
    return packed


def prefix_groups(items: list[WorkItem]) -> list[list[WorkItem]]:
    """`items` in runs that share a prefix of at least `PREFIX_CHARS` characters, each run's longest prompt first and
    the rest in text order; a prompt that shares with none is a run of its own."""
    texts = {item.sample.id: rendered(item) for item in items}
    ordered = sorted(items, key=lambda item: (texts[item.sample.id], _key(item)))
    groups: list[list[WorkItem]] = []
    for item in ordered:
        if groups and common_prefix(texts[groups[-1][-1].sample.id], texts[item.sample.id]) >= PREFIX_CHARS:
            groups[-1].append(item)
        else:
            groups.append([item])
    for group in groups:
        longest = max(range(len(group)), key=lambda i: (group[i].prompt_tokens, -i))
        group.insert(0, group.pop(longest))
    return groups


def rendered(item: WorkItem) -> str:
    """The text the model continues from: what an engine's prefix cache sees (the chat template applied)."""
    return item.prompt_format.render(item.sample.prompt, item.sample.answer_prefix)


def common_prefix(a: str, b: str) -> int:
    """How many leading characters `a` and `b` share (a binary search over slice comparisons, which run in C)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        mid = (low + high + 1) // 2
        if a[:mid] == b[:mid]:
            low = mid
        else:
            high = mid - 1
    return low


def _chunks(group: Sequence[WorkItem], size: int, batch_size: int = 1) -> list[list[WorkItem]]:
    """`group` in order, cut into whole batches and those into the fewest pieces of at most `size` items, the batches
    shared out evenly: at batch size 1, 10 items at 8 give 5 and 5, not 8 and 2, so the units of a small run share
    evenly among workers; at batch size 4, 20 items still give 8, 8 and 4 (never more batches than cutting every
    `size` items)."""
    per_piece = max(1, size // batch_size)  # whole batches a piece holds
    batches = -(-len(group) // batch_size)
    pieces = -(-batches // per_piece)
    base, extra = divmod(batches, pieces) if pieces else (0, 0)
    bounds = [min(len(group), (i * base + min(i, extra)) * batch_size) for i in range(pieces + 1)]
    return [list(group[bounds[i] : bounds[i + 1]]) for i in range(pieces)]


def _key(item: WorkItem) -> tuple[str, int, int, str]:
    """A total order of samples that ties are broken by (task, length, index, id)."""
    return item.sample.task, item.sample.length, item.sample.index, item.sample.id
