"""Run a plugin into an output directory: `data.jsonl`, `manifest.json`, `stats.json`.

Records stream to `data.jsonl.partial` and the file is renamed when the run completes; a killed
run is simply rerun: every LLM call it finished is in the cache (`OUT/llm_cache.sqlite`), so the
rerun reproduces the same records without asking again (the hit count is in stats.json). One run
writes an output at a time: `OUT/.lock` (harness.core.outputs) refuses a second writer at once, and dies
with its process, so a killed run is rerun as before.
"""

from __future__ import annotations

import json
import random
import time
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterator

from tqdm import tqdm

from harness.core.errors import HarnessError
from harness.core.outputs import OutputLock, lock_output
from harness.core.provenance import environment
from harness.core.records import SynthManifest, write_atomic
from harness.synth.context import SynthContext
from harness.synth.corpus import Document, corpus_digest
from harness.synth.llm import Generator
from harness.synth.plugin import SynthPlugin
from harness.synth.stats import dataset_stats, read_records


def run_plugin(plugin: SynthPlugin, config: Any, backend_generator: Generator | None, corpus: list[Document], out: Path,
               seed: int = 0, lock: OutputLock | None = None) -> dict[str, Any]:
    """Run `plugin` with `config`; returns the stats written to `OUT/stats.json`. `out` is locked for the
    run (another writer is refused); `lock` is the caller's when it took it already (`synthesize` does)."""
    if lock is not None and lock.holds(out):
        return _run_plugin(plugin, config, backend_generator, corpus, out, seed)
    with lock_output(out, "harness synth run", "--out"):
        return _run_plugin(plugin, config, backend_generator, corpus, out, seed)


def _run_plugin(plugin: SynthPlugin, config: Any, backend_generator: Generator | None, corpus: list[Document], out: Path,
                seed: int) -> dict[str, Any]:
    ctx = SynthContext(backend_generator, corpus, random.Random(seed), out / "work", seed=seed)
    ctx.work_dir.mkdir(exist_ok=True)
    started = time.perf_counter()
    partial = out / "data.jsonl.partial"
    ids: set[str] = set()
    count = 0
    with open(partial, "w", encoding="utf-8") as f, progress_bar(plugin, config, backend_generator, started) as bar:
        for record in plugin.run(ctx, config):
            if record.id in ids:
                raise HarnessError(f"plugin {plugin.name} yielded the id {record.id!r} twice")
            ids.add(record.id)
            f.write(record.to_json() + "\n")
            f.flush()
            count += 1
            bar.update(1)
    partial.replace(out / "data.jsonl")
    records = read_records(out / "data.jsonl")
    stats = {
        **dataset_stats(records),
        "dropped": dict(sorted(ctx.dropped.items())),
        "notes": dict(sorted(ctx.notes.items())),
        "llm_calls": backend_generator.calls if backend_generator else 0,
        "llm_cache_hits": backend_generator.hits if backend_generator else 0,
        "seconds": round(time.perf_counter() - started, 2),
        "plugin": plugin.stats(),
    }
    if backend_generator is not None and backend_generator.failed:  # calls with no reply after retries (not cached)
        stats["llm_failed"] = dict(sorted(backend_generator.failed.items()))
    described = backend_generator.describe() if backend_generator else {"generator": None}
    manifest = SynthManifest(
        plugin=plugin.name,
        config=asdict(config),
        seed=seed,
        generator=described.pop("generator"),
        corpus={"documents": len(corpus), "digest": corpus_digest(corpus), "sources": sorted({d.source for d in corpus})[:50]},
        records=count,
        environment=environment(),
        extra=described,  # the generator backend's description (generator_*)
    )
    write_atomic(out / "manifest.json", manifest.text())
    (out / "stats.json").write_text(json.dumps(stats, indent=2, sort_keys=True))
    return stats


def synthesize(plugin: str, config: dict[str, Any], source: str, out: Path, corpus: list[dict[str, Any]], seed: int = 0,
               generator: str | None = None, generator_args: dict[str, Any] | None = None,
               corpus_where: str = "corpus") -> dict[str, Any]:
    """Load plugin `plugin` with `config` (from `source`, named in errors), check the whole of it
    (synth.preflight), then load its corpus and (if it calls a model) the generator backend, and run
    it into `out`; returns the stats."""
    from harness.core.backends import load_backend
    from harness.synth.corpus import load_corpus
    from harness.synth.preflight import prepare

    instance, settings = prepare(plugin, config, source, corpus, corpus_where, generator)
    # a file there, no write access, or another process writing it fails before the corpus and model load
    with lock_output(out, "harness synth run", "--out") as lock:
        documents = load_corpus(corpus)
        if not instance.uses_generator:
            return run_plugin(instance, settings, None, documents, out, seed, lock)
        assert generator is not None  # prepare refuses a generator plugin without one
        backend = load_backend(generator, **(generator_args or {}))
        try:
            generating = Generator(backend, generator, out / "llm_cache.sqlite")
            return run_plugin(instance, settings, generating, documents, out, seed, lock)
        finally:
            backend.close()


@contextmanager
def progress_bar(plugin: SynthPlugin, config: Any, generator: Generator | None, started: float) -> Iterator[tqdm]:
    """A bar over the records (with an ETA where the plugin knows how many it plans), and the
    generator's calls, cache hits and call rate beside it, refreshed as each batch of calls finishes."""
    with tqdm(total=plugin.planned(config), desc=f"synth {plugin.name}", unit="record", dynamic_ncols=True) as bar:
        if generator is not None:
            def show() -> None:
                rate = generator.calls / max(time.perf_counter() - started, 1e-9)
                bar.set_postfix_str(f"LLM {generator.calls} calls, {generator.hits} cached, {rate:.2f} calls/s")

            generator.on_progress = show
        try:
            yield bar
        finally:
            if generator is not None:
                generator.on_progress = None
