"""Documents cut into small chunks of about `size` tokens (at a line or word break near the end of
each window, so chunks read as text) and grouped into medium chunks of consecutive small ones."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any, Callable


def token_counter(tokenizer: Any | None) -> Callable[[str], int]:
    """Tokens of a text under the generator's tokenizer (whitespace words where there is none)."""
    if tokenizer is None:
        return lambda text: len(text.split())
    return lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])


def _spans(text: str, tokenizer: Any | None) -> list[tuple[int, int]]:
    """Character spans of the tokens of `text` (of its words where there is no tokenizer)."""
    if tokenizer is None:
        return [m.span() for m in re.finditer(r"\S+", text)]
    return [tuple(span) for span in tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]]


def split_small(text: str, tokenizer: Any | None, size: int) -> list[str]:
    """Consecutive chunks covering `text`, each at most `size` tokens of it; a cut moves back to the
    last line break in the second half of its window (else to the last space, if it would split a
    word), and the next chunk starts there."""
    spans = _spans(text, tokenizer)
    starts = [a for a, _ in spans]
    chunks: list[str] = []
    begin, token = 0, 0
    while token < len(spans):
        last = min(token + size, len(spans)) - 1
        end = spans[last][1] if last + 1 < len(spans) else len(text)
        if last + 1 < len(spans):
            window = text[begin:end]
            cut = window.rfind("\n")
            if cut <= len(window) // 2 and not text[end].isspace():  # no line break late in the window: avoid a cut mid-word
                cut = window.rfind(" ")
            if cut > len(window) // 2:
                end = begin + cut + 1
        next_token = max(bisect.bisect_left(starts, end), token + 1)
        end = max(end, starts[next_token]) if next_token < len(spans) else len(text)  # blanks stay with the chunk before
        chunks.append(text[begin:end])
        begin, token = end, next_token
    return chunks


@dataclass(frozen=True)
class Tree:
    """One document's hierarchy: small chunks, and medium chunks as lists of small-chunk indices."""

    small: list[str]
    medium: list[list[int]]


def build_tree(text: str, tokenizer: Any | None, small_tokens: int, small_per_medium: int) -> Tree:
    small = split_small(text, tokenizer, small_tokens)
    medium = [list(range(i, min(i + small_per_medium, len(small)))) for i in range(0, len(small), small_per_medium)]
    return Tree(small, medium)
