"""RULER's needle-in-a-haystack generator: one pure function, variants are parameter rows.

Follows NVIDIA/RULER @c3f5e3b scripts/data/synthetic/niah.py: needles
`One of the special magic {type} for {key} is: {value}.` hidden in a haystack (noise lines,
essay sentences, or distractor needles), queried by key; the answer is every value of the
queried keys. `haystack="none"` (not a RULER row: training data's "relevant context only") keeps
just the queried needles.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any, Callable

from harness.core.errors import HarnessError
from harness.core.prompt import TokenCosts
from harness.core.types import NeedleDepths, Sample
from harness.tasks.base import Counter, prompt_budget
from harness.tasks.budget import Fitted
from harness.tasks.data import TaskOptions
from harness.tasks.ruler.common import DEPTHS, build_sample, sample_rng, templates
from harness.tasks.ruler.haystacks import NOISE_LINE, load_essay, sentence_starts_below
from harness.tasks.ruler.values import random_value
from harness.tasks.sizing import Layout, UnitSequence, costs_of, insert_layout, to_sample, unit_sequence

HAYSTACKS = ("noise", "essay", "needle", "none")  # none: the queried needles alone (training data's "relevant only")


@dataclass(frozen=True)
class NiahConfig:
    """One row of RULER's `synthetic.yaml` for the `niah` generator."""

    haystack: str = "essay"
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


def make_niah_sample(config: NiahConfig, options: TaskOptions, task: str, counter: Counter, length: int, index: int,
                     seed: int) -> Sample:
    """One niah sample of at most `length` tokens including RULER's tokens_to_generate."""
    spec = templates()["niah"]
    costs = costs_of(counter)
    rng = sample_rng(task, length, index, seed)
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

    def render(context: str) -> str:
        return template.format(type_needle_v=type_v, context=context, query=query)

    if config.haystack == "none":
        return _relevant_only(task, counter, length, index, seed, render, answer_prefix, answers,
                              [n for n in needles if n in _needles_of(spec["needle"], config, keys, values, queried)],
                              {"config": asdict(config)})
    if config.haystack == "essay":
        essay = load_essay(options.find("haystack_dir", "pg_essays", f"{task} (essay haystack)"))
        units = unit_sequence(costs, f"essay:{essay.digest}", lambda: essay.words, " ")
        depths = sorted(random.Random(layout_seed).sample(DEPTHS, len(needles)))

        def build(n: int) -> Layout:
            starts = sentence_starts_below(essay, n)
            positions = [starts[int(len(starts) * d / 100)] if int(len(starts) * d / 100) < len(starts) else n
                         for d in depths]
            return insert_layout(units, n, list(zip(positions, needles)), costs, depths=NeedleDepths(tuple(depths)))

        sep, guess, extra = " ", (length * 3) // 4, {"haystack_digest": essay.digest}
    else:
        if config.haystack == "noise":
            units = unit_sequence(costs, "noise", lambda: [NOISE_LINE], "\n")
        else:
            units = _distractor_needles(config, spec["needle"], layout_seed, length, costs)

        def build(n: int) -> Layout:
            layout_rng = random.Random(layout_seed)
            positions = sorted(layout_rng.sample(range(n), len(needles)))
            depths = tuple(round(100.0 * p / max(n, 1), 1) for p in positions)
            return insert_layout(units, n, list(zip(positions, needles)), costs, depths=NeedleDepths(depths))

        # the first guess from what the first units cost: any guess finds the same size (the count
        # grows with every unit), a close one tokenises fewer distractor needles
        probe = min(UnitSequence.MIN_CHUNK, units.size)
        per_unit = units.cost(probe) / probe
        sep, guess, extra = "\n", max(len(needles), int((length - int(spec["tokens_to_generate"])) / per_unit)), {}

    return build_sample(
        task, counter, length, index, seed, "niah", render, answer_prefix, build, sep, answers,
        min_units=len(needles), first_guess=guess, meta={"config": asdict(config), **extra},
    )


def _needles_of(needle: str, config: NiahConfig, keys: list[str], values: list[list[str]], queried: list[int]) -> set[str]:
    """The needle sentences of the queried keys."""
    return {needle.format(type_needle_v=config.value_type, key=keys[i], value=v) for i in queried for v in values[i]}


def _relevant_only(task: str, counter: Counter, length: int, index: int, seed: int, render: Callable[[str], str],
                   answer_prefix: str, answers: list[str], needles: list[str], meta: dict[str, Any]) -> Sample:
    """The sample with no haystack: the queried needles, one per line, then the question (however long
    `length` is; it must still fit)."""
    context = "\n".join(needles)
    tokens = counter.count(render(context), answer_prefix)
    budget = prompt_budget(int(templates()["niah"]["tokens_to_generate"]), length)
    if tokens > budget:
        raise HarnessError(f"{task} at length {length}: a budget of {budget} tokens is too small; the prompt alone "
                           f"needs {tokens} tokens")
    layout = Layout(context, None, 0, lambda: context, {})
    return to_sample(task, length, index, seed, render, answer_prefix, Fitted(layout, 0, tokens), answers, meta)


def _distractor_needles(config: NiahConfig, needle: str, layout_seed: int, length: int, costs: TokenCosts) -> UnitSequence:
    """RULER's `needle` haystack: fresh random needles, enough to fill any budget up to `length`
    (written only as far as the sample reaches: the same lines, in the same order, from one rng)."""
    rng = random.Random(layout_seed ^ 0x5EED)

    def more(k: int) -> list[str]:
        return [
            needle.format(type_needle_v=config.value_type, key=random_value(config.key_type, rng),
                          value=random_value(config.value_type, rng))
            for _ in range(k)
        ]

    return UnitSequence.generated(max(16, length // 8), more, "\n", costs)
