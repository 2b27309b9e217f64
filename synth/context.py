"""What a plugin's `run` receives: the generator, the corpus, a seeded rng, and a tally of drops."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from harness.core.errors import HarnessError
from harness.synth.corpus import Document
from harness.synth.llm import Generator


@dataclass
class SynthContext:
    """`generator` (cached LLM calls; None for plugins that call no model), `corpus` (documents), `rng` (seeded: the same seed gives the
    same data), `work_dir` (the plugin's scratch space under the output), `dropped` and `notes` (reason -> count)."""

    llm: Generator | None
    corpus: list[Document]
    rng: random.Random
    work_dir: Path
    dropped: Counter[str] = field(default_factory=Counter)
    notes: Counter[str] = field(default_factory=Counter)
    seed: int = 0  # the run's seed (`rng` is seeded with it): for plugins that seed their own generators

    @property
    def generator(self) -> Generator:
        """The cached generator (an error for a run started without one)."""
        if self.llm is None:
            raise HarnessError("this plugin calls a generator model, but the run has none (give --generator)")
        return self.llm

    def drop(self, reason: str) -> None:
        """Count an item left out, by reason (reported in stats.json)."""
        self.dropped[reason] += 1

    def note(self, what: str) -> None:
        """Count an event that kept the item (a fallback, a repair), by kind (reported in stats.json)."""
        self.notes[what] += 1
