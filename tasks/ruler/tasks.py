"""RULER's task table (its `synthetic.yaml`): one generator per family, one row per task."""

from __future__ import annotations

from functools import partial

from tasks.base import Task
from tasks.ruler.niah import NiahConfig, make_niah_sample, templates
from tasks.ruler.scoring import STRING_MATCH_ALL, postprocess

NIAH_ROWS: dict[str, NiahConfig] = {
    "niah_single_1": NiahConfig(haystack="noise", key_type="words", value_type="numbers"),
}


def niah_task(name: str) -> Task:
    """The registered RULER niah task `name`."""
    config = NIAH_ROWS[name]
    return Task(
        name=name,
        make_sample=partial(make_niah_sample, config, name),
        metric=STRING_MATCH_ALL,
        max_new_tokens=int(templates()["niah"]["tokens_to_generate"]),
        postprocess=postprocess,
        params={"generator": "niah", **config.__dict__},
    )
