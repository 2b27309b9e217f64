"""LazyOrder: a uniformly random order of the ids not skipped, the same whichever way it is read."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from harness.tasks.ruler.lazy_order import LazyOrder


class CountingRandom(random.Random):
    """A Random that counts its randrange calls."""

    calls = 0

    def randrange(self, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        self.calls += 1
        return super().randrange(*args, **kwargs)


@pytest.mark.parametrize("size, skip", [(1, ()), (10, {2, 5}), (50, set(range(0, 50, 3))), (7, {0, 1, 2, 3, 4, 5, 6})])
def test_the_whole_order_holds_every_id_not_skipped_once(size, skip) -> None:
    order = LazyOrder(size, skip, random.Random(size))
    everything = order.first(size + 5)
    assert sorted(everything) == [i for i in range(size) if i not in skip]


def test_the_first_ids_do_not_depend_on_how_far_or_how_often_it_was_read() -> None:
    whole = LazyOrder(1000, {4, 9}, random.Random(3)).first(1000)
    stepped = LazyOrder(1000, {4, 9}, random.Random(3))
    for m in (0, 5, 3, 40, 12, 1000):
        assert stepped.first(m) == whole[:m]


def test_every_order_is_equally_likely() -> None:
    """All 24 orders of 4 ids (and of the 4 left when 2 of 6 are skipped), 9,600 draws: each within
    a wide band around 400 (a biased shuffle, such as swapping with any position, falls outside)."""
    for size, skip in ((4, set()), (6, {1, 4})):
        seen = Counter(tuple(LazyOrder(size, skip, random.Random(seed)).first(size)) for seed in range(9600))
        assert len(seen) == 24
        assert 300 < min(seen.values()) and max(seen.values()) < 500


def test_reading_m_ids_costs_about_m_draws_whatever_the_size() -> None:
    rng = CountingRandom(1)
    order = LazyOrder(1_000_000, {10, 20, 30}, rng)
    assert len(order.first(25)) == 25
    assert rng.calls <= 25 + 3
