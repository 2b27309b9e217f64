"""RULER's task table (its `synthetic.yaml`): one generator per family, one row per task."""

from __future__ import annotations

from dataclasses import asdict, replace
from functools import partial
from typing import Any, Callable

from harness.core.errors import HarnessError
from harness.tasks.base import Metric, SampleFactory, Task
from harness.tasks.data import DataSource, TaskOptions
from harness.tasks.options import Options
from harness.tasks.ruler.common import EssayOptions, PlacementOptions, QAOptions, placement, templates
from harness.tasks.ruler.common_words import CommonWordsConfig, make_cwe_sample
from harness.tasks.ruler.freq_words import FreqWordsConfig, make_fwe_sample
from harness.tasks.ruler.haystacks import check_essay, essay_source
from harness.tasks.ruler.niah import NiahConfig, make_niah_sample
from harness.tasks.ruler.qa import QAConfig, make_qa_sample
from harness.tasks.ruler.qa_data import check_qa, qa_source
from harness.tasks.ruler.scoring import STRING_MATCH_ALL, STRING_MATCH_PART, postprocess
from harness.tasks.ruler.variable_tracking import VariableTrackingConfig, make_vt_sample

GENERATOR_VERSION = 1  # bump when every generator changes its output: sample caches key on it
# Rows whose output changed since, with their own version, so the other rows keep their cache keys.
# 2: qa and fwe follow RULER's fixed-seed placement (issue 13).
# 3: qa draws its random other documents from the front (`LazyOrder`), not by shuffling the corpus.
ROW_VERSIONS = {"qa_1": 3, "qa_2": 3, "fwe": 2}
PLACED = ("qa", "freq_words_extraction")  # families that read `--task-args placement=ruler|per_sample`

ROWS: dict[str, tuple[str, Any]] = {
    "niah_single_1": ("niah", NiahConfig(haystack="noise", key_type="words", value_type="numbers")),
    "niah_single_2": ("niah", NiahConfig(haystack="essay", key_type="words", value_type="numbers")),
    "niah_single_3": ("niah", NiahConfig(haystack="essay", key_type="words", value_type="uuids")),
    "niah_multikey_1": ("niah", NiahConfig(haystack="essay", key_type="words", value_type="numbers", num_keys=4)),
    "niah_multikey_2": ("niah", NiahConfig(haystack="needle", key_type="words", value_type="numbers")),
    "niah_multikey_3": ("niah", NiahConfig(haystack="needle", key_type="uuids", value_type="uuids")),
    "niah_multivalue": ("niah", NiahConfig(haystack="essay", key_type="words", value_type="numbers", num_values=4)),
    "niah_multiquery": ("niah", NiahConfig(haystack="essay", key_type="words", value_type="numbers", num_queries=4)),
    "vt": ("variable_tracking", VariableTrackingConfig(num_chains=1, num_hops=4)),
    "cwe": ("common_words_extraction", CommonWordsConfig(freq_cw=30, freq_ucw=3, num_cw=10)),
    "fwe": ("freq_words_extraction", FreqWordsConfig(alpha=2.0)),
    "qa_1": ("qa", QAConfig(dataset="squad")),
    "qa_2": ("qa", QAConfig(dataset="hotpotqa")),
}

METRICS: dict[str, Metric] = {
    "niah": STRING_MATCH_ALL,
    "variable_tracking": STRING_MATCH_ALL,
    "common_words_extraction": STRING_MATCH_ALL,
    "freq_words_extraction": STRING_MATCH_ALL,
    "qa": STRING_MATCH_PART,
}


def _factory(family: str, config: Any, options: TaskOptions, name: str) -> SampleFactory:
    makers: dict[str, Callable[[], SampleFactory]] = {
        "niah": lambda: partial(make_niah_sample, config, options, name),
        "variable_tracking": lambda: partial(make_vt_sample, config, name),
        "common_words_extraction": lambda: partial(make_cwe_sample, config, name),
        "freq_words_extraction": lambda: partial(make_fwe_sample, config, options, name),
        "qa": lambda: partial(make_qa_sample, config, options, name),
    }
    return makers[family]()


def _data_check(family: str, config: Any, options: TaskOptions, name: str) -> Callable[[], None] | None:
    """What a row reads from files (the essay haystack, the QA source), read ahead by `Task.preflight`."""
    if family == "niah" and config.haystack == "essay":
        return partial(check_essay, options, name)
    if family == "qa":
        return partial(check_qa, config.dataset, options)
    return None


def _data_source(family: str, config: Any, options: TaskOptions, name: str) -> Callable[[], DataSource] | None:
    """Where a row's file data came from (results record it); None for generated rows."""
    if family == "niah" and config.haystack == "essay":
        return partial(essay_source, options, name)
    if family == "qa":
        return partial(qa_source, config.dataset, options)
    return None


def options_type(family: str, config: Any) -> type[Options]:
    """The options a row reads: the essay folder, document or word placement and the QA file, or none."""
    if family == "niah" and config.haystack == "essay":
        return EssayOptions
    if family == "qa":
        return QAOptions
    if family in PLACED:
        return PlacementOptions
    return Options


def ruler_task(name: str, options: TaskOptions | None = None, haystack: str | None = None) -> Task:
    """The registered RULER task `name`; a niah row with another `haystack` (noise, essay, needle, none)
    when given (synthetic training data varies it; its params say so, so its samples are cached apart)."""
    family, config = ROWS[name]
    if haystack is not None and haystack != getattr(config, "haystack", None):
        if family != "niah":
            raise HarnessError(f"{name}: only the niah rows have a haystack to change (asked for {haystack!r})")
        config = replace(config, haystack=haystack)
    options = options or TaskOptions()
    own = options_type(family, config).parse(options.args)
    placed = {"placement": placement(options)} if family in PLACED else {}
    return Task(
        name=name,
        make_sample=_factory(family, config, options, name),
        metric=METRICS[family],
        max_new_tokens=int(templates()[family]["tokens_to_generate"]),
        postprocess=postprocess,
        check=_data_check(family, config, options, name),
        data_source=_data_source(family, config, options, name),
        params={"benchmark": "ruler", "family": family, "generator_version": ROW_VERSIONS.get(name, GENERATOR_VERSION),
                **asdict(config), **placed},
        options=own,
    )
