"""RULER's variable tracking (vt): follow `VAR X = VAR Y` chains hidden in noise lines.

Follows NVIDIA/RULER @c3f5e3b scripts/data/synthetic/variable_tracking.py: one chain of 4 hops
(5 five-letter variable names, a five-digit value) at random noise-line positions, after one
in-context example built the same way at 500 tokens (three-letter names, value 12345) whose
names and value are re-randomised for every sample. The answer is all names in the chain.
"""

from __future__ import annotations

import random
import string
from dataclasses import asdict, dataclass
from typing import Callable

from harness.core.types import Sample
from harness.tasks.base import Counter
from harness.tasks.budget import fit_to_budget
from harness.tasks.ruler.common import build_sample, sample_rng, templates
from harness.tasks.ruler.haystacks import NOISE_LINE
from harness.tasks.sizing import Layout, costs_of, count_layout, insert_layout, unit_sequence

ICL_LENGTH = 500  # RULER sizes its in-context example to 500 tokens with no generation budget


@dataclass(frozen=True)
class VariableTrackingConfig:
    """RULER's `vt` row: chains, hops, and whether an in-context example leads the prompt."""

    num_chains: int = 1
    num_hops: int = 4
    add_fewshot: bool = True


def _chains(rng: random.Random, config: VariableTrackingConfig, icl: bool) -> tuple[list[list[str]], list[list[str]]]:
    """Variable names and the chain lines; the first chain's first line holds the value."""
    width = 3 if icl else 5
    hops = min(10, config.num_hops) if icl else config.num_hops
    needed = (hops + 1) * config.num_chains
    names: list[str] = []
    while len(set(names)) < needed:
        names.append("".join(rng.choices(string.ascii_uppercase, k=width)))
    names = list(dict.fromkeys(names))[:needed]
    names_by_chain, lines_by_chain = [], []
    for c in range(config.num_chains):
        chain = names[c * (hops + 1) : (c + 1) * (hops + 1)]
        value = "12345" if icl else str(rng.randint(10000, 99999))
        lines = [f"VAR {chain[0]} = {value}"] + [f"VAR {chain[j + 1]} = VAR {chain[j]} " for j in range(hops)]
        names_by_chain.append(chain)
        lines_by_chain.append(lines)
    return names_by_chain, lines_by_chain


def _layout_builder(counter: Counter, lines_by_chain: list[list[str]], layout_seed: int) -> Callable[[int], Layout]:
    """Layouts of `n` noise lines with the chains placed exactly as RULER's insertion loop does."""
    costs = costs_of(counter)
    units = unit_sequence(costs, "noise", lambda: [NOISE_LINE], "\n")

    def build(n: int) -> Layout:
        rng = random.Random(layout_seed)
        slots: list[str | None] = [None] * n  # None: a noise line
        for lines in lines_by_chain:
            positions = sorted(rng.sample(range(len(slots)), len(lines)))
            for j, (position, line) in enumerate(zip(positions, lines)):
                slots.insert(position + j, line)
        inserts, seen = [], 0
        for slot in slots:
            if slot is None:
                seen += 1
            else:
                inserts.append((seen, slot))
        return insert_layout(units, n, inserts, costs)

    return build


def _icl_example(counter: Counter, config: VariableTrackingConfig, seed: int) -> str:
    """RULER's in-context example: the bare task template with its answer, sized to 500 tokens."""
    spec = templates()["variable_tracking"]
    costs = costs_of(counter)
    key = ("vt_icl", seed, asdict(config).__repr__())
    if key not in costs.memo:
        rng = random.Random(seed)
        names, lines = _chains(rng, config, icl=True)
        hops = min(10, config.num_hops)
        prefix = spec["answer_prefix"].format(num_v=hops + 1, query="12345")
        plain = _plain(counter)  # the example is the bare task template: no chat template

        def render(context: str) -> str:
            return spec["template"].format(context=context, query="12345", num_v=hops + 1)

        build = _layout_builder(plain, lines, rng.getrandbits(64))
        fitted = fit_to_budget(
            build, lambda lay: count_layout(plain, render, prefix, lay, "\n"), ICL_LENGTH,
            min_units=hops + 1, first_guess=ICL_LENGTH // 24, what="vt in-context example",
        )
        costs.memo[key] = render(fitted.value.materialize()) + prefix + " " + " ".join(names[0]) + "\n"
    example: str = costs.memo[key]
    return example


def _plain(counter: Counter) -> Counter:
    with_chat = getattr(counter, "with_chat", None)
    return with_chat(False) if with_chat is not None else counter


def _randomize_icl(example: str, hops: int, rng: random.Random) -> str:
    """RULER's `randomize_icl`: fresh names (same width) and a fresh value for each sample."""
    for name in example.strip().split()[-hops - 1 :]:
        example = example.replace(name, "".join(rng.choices(string.ascii_uppercase, k=len(name))))
    return example.replace("12345", str(rng.randint(10000, 99999)))


def make_vt_sample(config: VariableTrackingConfig, task: str, counter: Counter, length: int, index: int,
                   seed: int) -> Sample:
    """One vt sample of at most `length` tokens including RULER's tokens_to_generate."""
    spec = templates()["variable_tracking"]
    rng = sample_rng(task, length, index, seed)
    names, lines = _chains(rng, config, icl=False)
    value = lines[0][0].split("=")[-1].strip()
    icl = _randomize_icl(_icl_example(counter, config, seed), min(10, config.num_hops), rng) if config.add_fewshot else ""
    answer_prefix = spec["answer_prefix"].format(num_v=config.num_hops + 1, query=value)

    def render(context: str) -> str:
        body = spec["template"].format(context=context, query=value, num_v=config.num_hops + 1)
        return icl + "\n" + body if icl else body

    build = _layout_builder(counter, lines, rng.getrandbits(64))
    return build_sample(
        task, counter, length, index, seed, "variable_tracking", render, answer_prefix, build, "\n", names[0],
        min_units=config.num_hops + 1, first_guess=max(config.num_hops + 1, length // 24),
        meta={"config": asdict(config)},
    )
