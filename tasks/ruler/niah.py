"""RULER's needle-in-a-haystack generator: one pure function, variants are parameter rows.

Follows NVIDIA/RULER @c3f5e3b scripts/data/synthetic/niah.py: needles
`One of the special magic {type} for {key} is: {value}.` inserted at random line positions of a
haystack, queried by key; the answer is every value of the queried keys.
"""

from __future__ import annotations

import random
import tomllib
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.types import Sample, sample_id
from tasks.base import Counter
from tasks.budget import fit_to_budget
from tasks.ruler.haystacks import NOISE_LINE
from tasks.ruler.values import random_value

HAYSTACKS = ("noise", "needle")


@lru_cache(maxsize=1)
def templates() -> dict[str, Any]:
    """RULER's templates, read from `templates.toml` beside this file."""
    with open(Path(__file__).with_name("templates.toml"), "rb") as f:
        return tomllib.load(f)


@dataclass(frozen=True)
class NiahConfig:
    """One row of RULER's `synthetic.yaml` for the `niah` generator."""

    haystack: str = "noise"
    key_type: str = "words"
    value_type: str = "numbers"
    num_keys: int = 1
    num_values: int = 1
    num_queries: int = 1

    def __post_init__(self) -> None:
        if self.haystack not in HAYSTACKS:
            raise HarnessError(f"niah haystack {self.haystack!r} is not one of {', '.join(HAYSTACKS)}")


def singularize(text: str) -> str:
    """RULER's rewording when exactly one value is asked for (q x v = 1)."""
    for plural, singular in (("Some", "A"), ("are all", "is"), ("are", "is"), ("answers", "answer")):
        text = text.replace(plural, singular)
    return text


def make_niah_sample(config: NiahConfig, task: str, counter: Counter, length: int, index: int, seed: int) -> Sample:
    """One niah sample of at most `length` tokens including RULER's tokens_to_generate."""
    spec = templates()["niah"]
    rng = random.Random(f"{task}|{length}|{index}|{seed}")
    num_keys = max(config.num_keys, config.num_queries)
    keys: list[str] = []
    values: list[list[str]] = []
    needles: list[str] = []
    for _ in range(num_keys):
        keys.append(random_value(config.key_type, rng))
        values.append([random_value(config.value_type, rng) for _ in range(config.num_values)])
        needles += [spec["needle"].format(type_needle_v=config.value_type, key=keys[-1], value=v) for v in values[-1]]
    random.Random(seed).shuffle(needles)  # RULER shuffles with a fresh Random(seed)
    queried = rng.sample(range(num_keys), config.num_queries)
    queries = [keys[i] for i in queried]
    answers = [v for i in queried for v in values[i]]
    query = queries[0] if len(queries) == 1 else ", ".join(queries[:-1]) + ", and " + queries[-1]

    template, prefix, type_v = spec["template"], spec["answer_prefix"], config.value_type
    if config.num_queries * config.num_values == 1:
        template, prefix, type_v = singularize(template), singularize(prefix), type_v[:-1]
    answer_prefix = prefix.format(type_needle_v=type_v, query=query)
    layout_seed = rng.getrandbits(64)

    def build(n: int) -> tuple[str, list[int]]:
        layout = random.Random(layout_seed)
        if config.haystack == "noise":
            lines = [NOISE_LINE] * n
        else:
            lines = [
                spec["needle"].format(
                    type_needle_v=config.value_type,
                    key=random_value(config.key_type, layout),
                    value=random_value(config.value_type, layout),
                )
                for _ in range(n)
            ]
        positions = sorted(layout.sample(range(n), len(needles)), reverse=True)
        for position, needle in zip(positions, needles):
            lines.insert(position, needle)
        context = "\n".join(lines)
        return template.format(type_needle_v=type_v, context=context, query=query), positions

    budget = length - int(spec["tokens_to_generate"])
    fitted = fit_to_budget(
        build,
        lambda built: counter.count(built[0], answer_prefix),
        budget,
        min_units=len(needles),
        first_guess=max(len(needles), budget // 24),
        what=f"{task} at length {length}",
    )
    prompt, positions = fitted.value
    depths = [round(100.0 * p / max(fitted.units, 1), 1) for p in sorted(positions)]
    return Sample(
        id=sample_id(task, length, index, seed),
        task=task,
        length=length,
        index=index,
        prompt=prompt,
        targets=tuple(answers),
        answer_prefix=answer_prefix,
        meta={"depths": depths, "haystack_units": fitted.units, "config": asdict(config)},
    )
