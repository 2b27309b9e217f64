"""RULER's haystacks: filler text the needles hide in.

- noise: one line repeated, lines joined by "\\n" (scripts/data/synthetic/niah.py).
- essay: Paul Graham essays, concatenated in file-name order as RULER's PaulGrahamEssays.json,
  whitespace-normalised and split into words; sentence starts mark where needles may go (split
  once per essay content and nltk version, then read from `<cache>/essay_sentences/`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from harness.core.errors import HarnessError
from harness.core.userfiles import read_text
from harness.tasks.data import DataSource, TaskOptions, file_digest, local_source
from harness.tasks.disk_cache import read_entry, write_entry

NOISE_LINE = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."


@dataclass(frozen=True)
class Essay:
    """The essay haystack as words, with the word index where each sentence starts."""

    words: tuple[str, ...]
    sentence_starts: tuple[int, ...]
    digest: str
    origin: DataSource  # the folder read, as results record it


@lru_cache(maxsize=4)
def load_essay(directory: Path) -> Essay:
    """Read `*.txt` under `directory` (sorted), split into words and sentences."""
    if not directory.is_dir():
        raise HarnessError(f"essay haystack: {directory} is not a directory (a folder of .txt essays)")
    files = sorted(directory.glob("*.txt"))
    if not files:
        raise HarnessError(f"essay haystack: no .txt files in {directory}")
    text = "".join(read_text(f, "essay") for f in files)
    if not text.strip():
        raise HarnessError(f"essay haystack: the .txt files in {directory} hold no text")
    words = re.sub(r"\s+", " ", text).strip().split(" ")
    digest = file_digest(files)
    starts = _cached_starts(digest, len(words))
    if starts is None:
        starts = _sentence_starts(words)
        _store_starts(digest, starts)
    return Essay(tuple(words), starts, digest, local_source(directory, digest))


SPLIT_VERSION = 1  # bump when `_sentence_starts` changes: the on-disk cache keys on it
STARTS_FOLDER = "essay_sentences"


def _sentence_starts(words: list[str]) -> tuple[int, ...]:
    """Word indices where Punkt starts a sentence in the space-joined words."""
    from nltk.tokenize.punkt import PunktSentenceTokenizer  # nltk costs ~2 s to import: cached below

    # Untrained Punkt: the same algorithm as nltk's sent_tokenize, without downloadable data.
    spans = PunktSentenceTokenizer().span_tokenize(" ".join(words))
    char_to_word = {}
    position = 0
    for index, word in enumerate(words):
        char_to_word[position] = index
        position += len(word) + 1
    return tuple(sorted({char_to_word[start] for start, _ in spans if start in char_to_word}))


def _starts_key(digest: str) -> str:
    """The cache key of the essays with `digest`: their split by this split version and nltk version."""
    from importlib.metadata import version

    return f"{digest}-v{SPLIT_VERSION}-nltk{version('nltk')}"


def _cached_starts(digest: str, words: int) -> tuple[int, ...] | None:
    """The cached split, or None when absent or not a valid split of `words` words."""
    starts = read_entry(STARTS_FOLDER, _starts_key(digest))
    if not isinstance(starts, list) or not all(isinstance(s, int) for s in starts):
        return None
    if any(b <= a for a, b in zip(starts, starts[1:])) or (starts and not 0 <= starts[0] <= starts[-1] < words):
        return None
    return tuple(starts)


def _store_starts(digest: str, starts: tuple[int, ...]) -> None:
    """Keep the split for later processes (best effort: a read-only cache only costs the split again)."""
    write_entry(STARTS_FOLDER, _starts_key(digest), list(starts))


def check_essay(options: TaskOptions, task: str) -> None:
    """Read the essay haystack a task will use (`Task.check`: errors before any model loads)."""
    essay_source(options, task)


def essay_source(options: TaskOptions, task: str) -> DataSource:
    """Where the essay haystack a task uses was read (`Task.data_source`)."""
    return load_essay(options.find("haystack_dir", "pg_essays", f"{task} (essay haystack)")).origin


def sentence_starts_below(essay: Essay, n: int) -> list[int]:
    """Word indices of sentence starts within the first `n` words of the (cycled) essay."""
    size = len(essay.words)
    starts: list[int] = []
    offset = 0
    while offset < n:
        starts += [offset + s for s in essay.sentence_starts if offset + s < n]
        offset += size
    return starts
