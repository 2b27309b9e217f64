"""What a plugin's `run` receives: the generator, the corpus, a seeded rng, and a tally of drops."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from synth.corpus import Document
from synth.llm import Generator


@dataclass
class SynthContext:
    """`generator` (cached LLM calls), `corpus` (documents), `rng` (seeded: the same seed gives the
    same data), `work_dir` (the plugin's scratch space under the output), `dropped` and `notes` (reason -> count)."""

    generator: Generator
    corpus: list[Document]
    rng: random.Random
    work_dir: Path
    dropped: Counter[str] = field(default_factory=Counter)
    notes: Counter[str] = field(default_factory=Counter)

    def drop(self, reason: str) -> None:
        """Count an item left out, by reason (reported in stats.json)."""
        self.dropped[reason] += 1

    def note(self, what: str) -> None:
        """Count an event that kept the item (a fallback, a repair), by kind (reported in stats.json)."""
        self.notes[what] += 1
