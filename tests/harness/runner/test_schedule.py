"""The schedules: every sample once; `prefix` keeps prompts that share a long prefix together, longest first."""

from __future__ import annotations

import os
import random

import pytest

from harness.core.errors import HarnessError
from harness.core.prompt import PromptFormat
from harness.core.types import Sample
from harness.runner.plan import WorkItem, build_work
from harness.runner.schedule import PREFIX_CHARS, UNIT_ITEMS, batches, check_schedule, common_prefix, prefix_groups, units
from harness.tasks import get_task

TASK = get_task("niah_single_1")


def _item(index: int, text: str, tokens: int, choices: tuple[str, ...] = ()) -> WorkItem:
    sample = Sample(id=f"s{index:03d}", task=TASK.name, length=1024, index=index, prompt=text, choices=choices)
    return WorkItem(TASK, sample, PromptFormat(None, False), tokens)


def _flat(planned: list[list[list[WorkItem]]]) -> list[str]:
    return [item.sample.id for unit in planned for batch in unit for item in batch]


def test_common_prefix_agrees_with_the_slow_definition() -> None:
    rng = random.Random(0)
    for _ in range(300):
        a = "".join(rng.choice("ab") for _ in range(rng.randrange(0, 40)))
        b = a[: rng.randrange(0, len(a) + 1)] + "".join(rng.choice("ab") for _ in range(rng.randrange(0, 5)))
        assert common_prefix(a, b) == len(os.path.commonprefix([a, b]))


def test_prompts_sharing_a_long_prefix_are_one_group_longest_first() -> None:
    shared_a, shared_b = "A" * PREFIX_CHARS, "B" * PREFIX_CHARS
    items = [_item(0, shared_a + "q1", 10), _item(1, shared_b + "x", 30), _item(2, shared_a + "q2 longer", 50),
             _item(3, shared_b + "y", 20), _item(4, "C" * (PREFIX_CHARS - 1) + "1", 5), _item(5, "C" * (PREFIX_CHARS - 1) + "2", 6)]
    groups = [[item.sample.index for item in group] for group in prefix_groups(items)]
    assert sorted(map(sorted, groups)) == [[0, 2], [1, 3], [4], [5]]  # one character short of the threshold: apart
    assert [2, 0] in groups and [1, 3] in groups  # the longest prompt first, then text order


def test_prefix_units_hold_every_sample_once_longest_group_first_and_choices_last() -> None:
    rng = random.Random(1)
    items = [_item(i, f"{rng.choice('ABCD') * PREFIX_CHARS}{i}", rng.randrange(1, 500)) for i in range(60)]
    items += [_item(100 + i, "Q" * PREFIX_CHARS + str(i), 7, choices=("A", "B")) for i in range(12)]
    planned = units(items, 3)
    assert sorted(_flat(planned)) == sorted(item.sample.id for item in items)
    assert all(sum(map(len, unit)) <= max(UNIT_ITEMS, 3) and all(len(b) <= 3 for b in unit) for unit in planned)
    first = planned[0][0][0]
    assert first.prompt_tokens == max(item.prompt_tokens for item in items if not item.sample.choices)
    kinds = [bool(item.sample.choices) for unit in planned for batch in unit for item in batch]
    assert kinds == sorted(kinds)  # generated first, multiple choice after
    for unit in planned:  # a unit never mixes two prefixes it could have kept apart, unless packing small groups
        heads = {item.sample.prompt[:PREFIX_CHARS] for batch in unit for item in batch}  # type: ignore[index]
        assert len(heads) <= sum(map(len, unit))


def test_a_long_group_is_cut_evenly_so_a_small_run_shares_its_units_evenly() -> None:
    shared = "M" * PREFIX_CHARS
    cases = {(10, 1): [5, 5], (17, 1): [6, 6, 5], (8, 1): [8], (9, 1): [5, 4], (16, 1): [8, 8],
             (20, 4): [8, 8, 4], (10, 4): [8, 2], (20, 3): [6, 6, 8], (9, 2): [6, 3], (12, 16): [12]}
    for (count, batch), sizes in cases.items():  # (20, 3): pieces of 6, 6, 6 and 2; the last two packed into one unit
        items = [_item(i, shared + f"{i:03d}", 7, choices=("A", "B")) for i in range(count)]
        planned = units(items, batch)
        assert [sum(map(len, unit)) for unit in planned] == sizes, (count, batch)
        assert all(len(b) <= batch for unit in planned for b in unit)
        assert sorted(_flat(planned)) == sorted(item.sample.id for item in items)


def test_the_length_schedule_is_the_earlier_order_one_batch_per_unit() -> None:
    items = [_item(i, f"p{i}", (i * 37) % 11) for i in range(20)]
    planned = units(items, 4, "length")
    assert all(len(unit) == 1 for unit in planned)
    assert [[i.sample.id for i in unit[0]] for unit in planned] == [[i.sample.id for i in b] for b in batches(items, 4)]
    assert [i.prompt_tokens for unit in planned for i in unit[0]] == sorted((i.prompt_tokens for i in items), reverse=True)


def test_the_classic_niah_grid_at_one_length_shares_its_haystack(tokenizer, shared_data) -> None:
    from harness.tasks.data import TaskOptions

    options = TaskOptions(data_dir=shared_data, args={"depths": [0, 50, 70, 90, 100]})
    plan = build_work([get_task("niah", options)], [1024, 2048], 10, 42, tokenizer, "off", set(), options)
    groups = [sorted((item.sample.length, item.sample.index % 5) for item in group) for group in prefix_groups(plan.work)]
    # from 50% on, every depth at 1k and 2k shares the essay's first 1,200 characters or more (2k's haystack begins as
    # 1k's does): one group; at 0% the needle comes first, and those four share the needle and the essay after it
    assert sorted(groups) == [[(1024, 0), (1024, 0), (2048, 0), (2048, 0)],
                              sorted((length, depth) for length in (1024, 2048) for depth in (1, 1, 2, 2, 3, 3, 4, 4))]


def test_a_bad_schedule_is_named() -> None:
    with pytest.raises(HarnessError, match="bad --schedule 'fifo': expected prefix or length"):
        check_schedule("fifo")
