"""A random order of documents drawn only as far as it is read.

qa lays out a sample's gold documents, then "k random others" for the k its budget allows: a few
dozen at 4k out of tens of thousands of HotpotQA paragraphs. On a file of its dev set's size (74,050
paragraphs) shuffling the whole corpus cost ~16 ms a sample (listing the others ~3 ms); this draws
the same uniformly random order from the front, one position at a time, so a sample pays for the
documents it uses.
`random.sample` cannot do this: its first k picks change with k.
"""

from __future__ import annotations

import random
from collections.abc import Collection


class LazyOrder:
    """The ids 0..size-1 except `skip`, in a uniformly random order read from the front.

    A Fisher-Yates shuffle of range(size) run from position 0 (position t swaps with one at random
    in t..size-1), its displaced entries kept in a dict: the first m ids cost about m + len(skip)
    draws from `rng`, whatever `size`. Deterministic: the ids read depend only on `rng`'s state at
    construction and `rng` must not be drawn from elsewhere afterwards."""

    def __init__(self, size: int, skip: Collection[int], rng: random.Random) -> None:
        self.size = size
        self._skip = frozenset(skip)
        self._rng = rng
        self._moved: dict[int, int] = {}  # position -> the id now there, where it differs from the position
        self._position = 0  # positions before this one are final
        self._ids: list[int] = []  # the order so far, `skip` left out

    def first(self, m: int) -> list[int]:
        """The first m ids of the order (all of them when fewer remain)."""
        moved, skip, ids = self._moved, self._skip, self._ids
        while len(ids) < m and self._position < self.size:
            t = self._position
            j = t + self._rng.randrange(self.size - t)
            here = moved.pop(t, t)
            chosen = here if j == t else moved.get(j, j)
            if j != t:
                moved[j] = here
            self._position = t + 1
            if chosen not in skip:
                ids.append(chosen)
        return ids[:m]
