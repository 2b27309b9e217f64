"""Run a plugin into an output directory: `data.jsonl`, `manifest.json`, `stats.json`.

Records stream to `data.jsonl.partial` and the file is renamed when the run completes; a killed
run is simply rerun: every LLM call it finished is in the cache (`OUT/llm_cache.sqlite`), so the
rerun reproduces the same records without asking again (the hit count is in stats.json).
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.provenance import environment
from synth.context import SynthContext
from synth.corpus import Document, corpus_digest
from synth.llm import Generator
from synth.plugin import SynthPlugin
from synth.stats import dataset_stats

SCHEMA_VERSION = 1


def run_plugin(plugin: SynthPlugin, config: Any, backend_generator: Generator | None, corpus: list[Document], out: Path,
               seed: int = 0) -> dict[str, Any]:
    """Run `plugin` with `config`; returns the stats written to `OUT/stats.json`."""
    out.mkdir(parents=True, exist_ok=True)
    ctx = SynthContext(backend_generator, corpus, random.Random(seed), out / "work")
    ctx.work_dir.mkdir(exist_ok=True)
    started = time.perf_counter()
    partial = out / "data.jsonl.partial"
    ids: set[str] = set()
    count = 0
    with open(partial, "w", encoding="utf-8") as f:
        for record in plugin.run(ctx, config):
            if record.id in ids:
                raise HarnessError(f"plugin {plugin.name} yielded the id {record.id!r} twice")
            ids.add(record.id)
            f.write(record.to_json() + "\n")
            f.flush()
            count += 1
    partial.replace(out / "data.jsonl")
    records = [json.loads(line) for line in (out / "data.jsonl").read_text(encoding="utf-8").splitlines()]
    stats = {
        **dataset_stats(records),
        "dropped": dict(sorted(ctx.dropped.items())),
        "notes": dict(sorted(ctx.notes.items())),
        "llm_calls": backend_generator.calls if backend_generator else 0,
        "llm_cache_hits": backend_generator.hits if backend_generator else 0,
        "seconds": round(time.perf_counter() - started, 2),
        "plugin": plugin.stats(),
    }
    manifest = {
        "version": SCHEMA_VERSION,
        "plugin": plugin.name,
        "config": asdict(config),
        "seed": seed,
        **(backend_generator.describe() if backend_generator else {"generator": None}),
        "corpus": {"documents": len(corpus), "digest": corpus_digest(corpus), "sources": sorted({d.source for d in corpus})[:50]},
        "records": count,
        "environment": environment(),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str))
    (out / "stats.json").write_text(json.dumps(stats, indent=2, sort_keys=True))
    return stats


def synthesize(plugin: str, config: dict[str, Any], source: str, out: Path, corpus: list[dict[str, Any]], seed: int = 0,
               generator: str | None = None, generator_args: dict[str, Any] | None = None) -> dict[str, Any]:
    """Load plugin `plugin` with `config` (from `source`, named in errors), its corpus and (if it
    calls a model) the generator backend, and run it into `out`; returns the stats."""
    from harness.backends import load_backend
    from synth.corpus import load_corpus
    from synth.plugin import get_plugin, load_config

    cls = get_plugin(plugin)
    settings = load_config(cls.Config, config, source)
    documents = load_corpus(corpus)
    if not cls.uses_generator:
        return run_plugin(cls(), settings, None, documents, out, seed)
    if generator is None:
        raise HarnessError(f"synth plugin {plugin!r} calls a generator model: name one")
    backend = load_backend(generator, **(generator_args or {}))
    try:
        return run_plugin(cls(), settings, Generator(backend, generator, out / "llm_cache.sqlite"), documents, out, seed)
    finally:
        backend.close()
