"""`harness sweep`: every data variant synthesized, trained (`replicates` times, one training seed each)
and scored, each stage cached by the content hash of its inputs (see `stages`); `executors` run them here
or on Ray. The summary, `ROOT/sweep.json` (`harness.core.records.SweepSummary`), maps each variant to its
stages, its results and what failed, and lists its replicates:

    "replicates": 3,
    "variants": {"needles-1k": {"kind": "synth", "status": "done" | "partial" | "failed", "error": ...,
                                "stages": [...], "results": "...",      # replicate 0's, as before replicates
                                "replicates": [{"replicate": 0, "seed": 0, "synth_seed": 0, "status": "done",
                                                "error": null, "stages": [...], "results": "..."}, ...]}}

A variant is `done` when every replicate is, `failed` when none is, `partial` otherwise."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError
from harness.core.outputs import ensure_dir
from harness.core.records import SweepSummary
from harness.core.redaction import redact
from harness.core.registry import did_you_mean
from harness.sweep.config import SweepConfig, Variant
from harness.sweep.executors import ChainResult, run_local, run_ray
from harness.sweep.preflight import check_sweep
from harness.sweep.stages import ChainKey, Stage, plan_sweep, read_stage

SUMMARY = "sweep.json"


def run_sweep(config: SweepConfig, root: Path, executor: str = "local", jobs: int = 1, address: str | None = None,
              only: list[str] | None = None) -> dict[str, Any]:
    """Check the whole sweep (`preflight`), then run (or reuse) every stage of every replicate of every
    variant (`only`: of those variants); write and return the summary."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise HarnessError(f"--jobs {jobs}: must be a whole number >= 1 (variants run at a time)")
    variants = [v for v in config.variants if not only or v.name in only]
    if only and len(variants) != len(set(only)):
        names = [v.name for v in config.variants]
        missing = [f"{m!r}" + (f" ({hint})" if (hint := did_you_mean(m, names)) else "") for m in sorted(set(only) - set(names))]
        raise HarnessError(f"--only: no variant named {', '.join(missing)} in {config.source} (variants: {', '.join(names)})")
    if executor not in ("local", "ray"):
        raise HarnessError(f"--executor {executor!r}: expected local or ray")
    chains = label_stages(plan_sweep(config, variants))
    check_sweep(config, variants)  # a config error fails here, before the first stage runs
    ensure_dir(root, "sweep directory (--output)")
    started = time.perf_counter()
    results = run_local(chains, root, jobs) if executor == "local" else run_ray(chains, root, address)
    summary = redact(_summary(config, root, chains, results, time.perf_counter() - started))  # errors may quote a URL
    record = SweepSummary.parse(summary, str(root / SUMMARY))
    record.write(root / SUMMARY)
    return record.to_dict()


def label_stages(chains: dict[ChainKey, list[Stage]]) -> dict[ChainKey, list[Stage]]:
    """Name every stage for the log and sweep.json: `stage k of n: train needles-1k (replicate 2 of 3)`,
    numbered in the order the local executor runs them (a stage two variants share is named once, by the
    first; the replicate is named when the variant has several and the stage is that replicate's alone)."""
    count = {variant: sum(1 for v, _ in chains if v == variant) for variant, _ in chains}
    holders: dict[tuple[str, str], int] = {}  # (variant, stage id) -> how many of its replicates run the stage
    for (variant, _), stages in chains.items():
        for stage in stages:
            holders[variant, stage.id] = holders.get((variant, stage.id), 0) + 1
    names: dict[str, str] = {}
    for (variant, replicate), stages in chains.items():
        for stage in stages:
            own = count[variant] > 1 and holders[variant, stage.id] == 1
            names.setdefault(stage.id, f"{stage.kind} {variant}" + (f" (replicate {replicate + 1} of {count[variant]})" if own else ""))
    number = {stage_id: k for k, stage_id in enumerate(names, 1)}
    return {key: [replace(s, label=f"stage {number[s.id]} of {len(names)}: {names[s.id]}") for s in stages]
            for key, stages in chains.items()}


def _summary(config: SweepConfig, root: Path, chains: dict[ChainKey, list[Stage]], results: list[ChainResult],
             seconds: float) -> dict[str, Any]:
    variants: dict[str, Any] = {}
    for variant in config.variants:
        keys = [key for key in chains if key[0] == variant.name]
        if not keys:
            continue
        replicates = [_replicate(config, variant, root, chains[key], key[1], results) for key in sorted(keys)]
        done = sum(1 for r in replicates if r["status"] == "done")
        first, failed = replicates[0], next((r for r in replicates if r["error"]), None)
        error = first["error"] or (failed and f"replicate {failed['replicate'] + 1}: {failed['error']}")
        variants[variant.name] = {"kind": variant.kind,
                                  "status": "done" if done == len(replicates) else "partial" if done else "failed",
                                  "error": error, "stages": first["stages"], "results": first["results"],
                                  "replicates": replicates}
    ran = {s["id"] for v in variants.values() for r in v["replicates"] for s in r["stages"] if s["status"] == "done" and not s["cached"]}
    return {"name": config.name, "source": config.source, "base_model": config.base_model, "replicates": config.replicates,
            "variants": variants, "seconds": round(seconds, 1), "stages_run": len(ran)}


def _replicate(config: SweepConfig, variant: Variant, root: Path, chain: list[Stage], replicate: int,
               results: list[ChainResult]) -> dict[str, Any]:
    """One replicate's entry in sweep.json: its seeds, status, error, stages and results file."""
    result = next(r for r in results if (r.variant, r.replicate) == (variant.name, replicate))
    stages = []
    for stage in chain:
        saved = read_stage(root, stage.id) or {}
        ran = next((s for s in result.stages if s.get("stage", {}).get("key") == stage.key), None)
        stages.append({"id": stage.id, "kind": stage.kind, "label": stage.label, "status": saved.get("status", "not run"),
                       "cached": bool(ran and ran.get("cached")), "seconds": saved.get("seconds"),
                       "error": saved.get("error"), "output": saved.get("output")})
    final = stages[-1]
    seed, synth_seed = config.seeds(variant, replicate)
    return {"replicate": replicate, "seed": seed, "synth_seed": synth_seed,
            "status": "done" if final["status"] == "done" else "failed", "error": result.error, "stages": stages,
            "results": (final["output"] or {}).get("results") if final["status"] == "done" else None}
