"""Random needle keys and values as RULER draws them: words, 7-digit numbers, uuids.

Words are adjective-noun pairs from wonderwords' lists (RULER: `sorted(set(adj-noun))`, then a
uniform choice). We draw the pair by index into the sorted product instead of materialising its
six million strings; the distribution is the same.
"""

from __future__ import annotations

import random
import uuid
from functools import lru_cache

from harness.core.errors import HarnessError


@lru_cache(maxsize=1)
def _word_lists() -> tuple[tuple[str, ...], tuple[str, ...]]:
    from wonderwords import random_word

    nouns = tuple(sorted(set(random_word._get_words_from_text_file("nounlist.txt"))))
    adjectives = tuple(sorted(set(random_word._get_words_from_text_file("adjectivelist.txt"))))
    return adjectives, nouns


def random_word_pair(rng: random.Random) -> str:
    """An `adjective-noun` key such as `quizzical-harbor`."""
    adjectives, nouns = _word_lists()
    index = rng.randrange(len(adjectives) * len(nouns))
    return f"{adjectives[index // len(nouns)]}-{nouns[index % len(nouns)]}"


def random_number(rng: random.Random, digits: int = 7) -> str:
    """A number with exactly `digits` digits."""
    return str(rng.randint(10 ** (digits - 1), 10**digits - 1))


def random_uuid(rng: random.Random) -> str:
    """A uuid4 string drawn from `rng`."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def random_value(kind: str, rng: random.Random) -> str:
    """A key or value of RULER's type `words`, `numbers` or `uuids`."""
    if kind == "words":
        return random_word_pair(rng)
    if kind == "numbers":
        return random_number(rng)
    if kind == "uuids":
        return random_uuid(rng)
    raise HarnessError(f"unknown needle type {kind!r}: expected words, numbers or uuids")
