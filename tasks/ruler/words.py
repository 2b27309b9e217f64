"""Word lists for RULER's common-words task: wonderwords' nouns, adjectives and verbs, and a large
English word list (the PyPI package english-words) when a length needs more distinct words."""

from __future__ import annotations

import random
from functools import lru_cache


@lru_cache(maxsize=4)
def common_word_pool(seed: int) -> tuple[str, ...]:
    """RULER: sorted(set(nouns + adjectives + verbs)), shuffled with Random(seed)."""
    from wonderwords import random_word

    words: list[str] = []
    for name in ("nounlist.txt", "adjectivelist.txt", "verblist.txt"):
        words += random_word._get_words_from_text_file(name)
    pool = sorted(set(words))
    random.Random(seed).shuffle(pool)
    return tuple(pool)


@lru_cache(maxsize=1)
def large_word_pool() -> tuple[str, ...]:
    """About 100k lower-case alphabetic English words (RULER uses its english_words.json here)."""
    from english_words import get_english_words_set

    return tuple(sorted(w for w in get_english_words_set(["gcide"], lower=True) if w.isalpha()))
