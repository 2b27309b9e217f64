"""`harness sweep`: every data variant synthesized, trained and scored, each stage cached by the
content hash of its inputs (see `stages`); `executors` run them here or on Ray. The summary,
`ROOT/sweep.json` (`harness.core.records.SweepSummary`), maps each variant to its stages, its results and what failed."""

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
from harness.sweep.config import SweepConfig
from harness.sweep.executors import ChainResult, run_local, run_ray
from harness.sweep.preflight import check_sweep
from harness.sweep.stages import Stage, plan_variant, read_stage

SUMMARY = "sweep.json"


def run_sweep(config: SweepConfig, root: Path, executor: str = "local", jobs: int = 1, address: str | None = None,
              only: list[str] | None = None) -> dict[str, Any]:
    """Check the whole sweep (`preflight`), then run (or reuse) every stage of every variant; write
    and return the summary."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise HarnessError(f"--jobs {jobs}: must be a whole number >= 1 (variants run at a time)")
    variants = [v for v in config.variants if not only or v.name in only]
    if only and len(variants) != len(set(only)):
        names = [v.name for v in config.variants]
        missing = [f"{m!r}" + (f" ({hint})" if (hint := did_you_mean(m, names)) else "") for m in sorted(set(only) - set(names))]
        raise HarnessError(f"--only: no variant named {', '.join(missing)} in {config.source} (variants: {', '.join(names)})")
    if executor not in ("local", "ray"):
        raise HarnessError(f"--executor {executor!r}: expected local or ray")
    chains = label_stages({v.name: plan_variant(config, v) for v in variants})
    check_sweep(config, variants)  # a config error fails here, before the first stage runs
    ensure_dir(root, "sweep directory (--output)")
    started = time.perf_counter()
    results = run_local(chains, root, jobs) if executor == "local" else run_ray(chains, root, address)
    summary = redact(_summary(config, root, chains, results, time.perf_counter() - started))  # errors may quote a URL
    record = SweepSummary.parse(summary, str(root / SUMMARY))
    record.write(root / SUMMARY)
    return record.to_dict()


def label_stages(chains: dict[str, list[Stage]]) -> dict[str, list[Stage]]:
    """Name every stage for the log and sweep.json: `stage k of n: train needles-1k`, numbered in
    the order the local executor runs them (a stage two variants share is named once, by the first)."""
    names: dict[str, str] = {}
    for variant, stages in chains.items():
        for stage in stages:
            names.setdefault(stage.id, f"{stage.kind} {variant}")
    number = {stage_id: k for k, stage_id in enumerate(names, 1)}
    return {variant: [replace(s, label=f"stage {number[s.id]} of {len(names)}: {names[s.id]}") for s in stages]
            for variant, stages in chains.items()}


def _summary(config: SweepConfig, root: Path, chains: dict[str, list[Any]], results: list[ChainResult],
             seconds: float) -> dict[str, Any]:
    variants: dict[str, Any] = {}
    for variant in config.variants:
        if variant.name not in chains:
            continue
        result = next(r for r in results if r.variant == variant.name)
        stages = []
        for stage in chains[variant.name]:
            saved = read_stage(root, stage.id) or {}
            ran = next((s for s in result.stages if s.get("stage", {}).get("key") == stage.key), None)
            stages.append({"id": stage.id, "kind": stage.kind, "label": stage.label, "status": saved.get("status", "not run"),
                           "cached": bool(ran and ran.get("cached")), "seconds": saved.get("seconds"),
                           "error": saved.get("error"), "output": saved.get("output")})
        final = stages[-1]
        variants[variant.name] = {"kind": variant.kind, "status": "done" if final["status"] == "done" else "failed",
                                  "error": result.error, "stages": stages,
                                  "results": final["output"]["results"] if final["status"] == "done" else None}
    return {"name": config.name, "source": config.source, "base_model": config.base_model, "variants": variants,
            "seconds": round(seconds, 1), "stages_run": sum(1 for v in variants.values() for s in v["stages"]
                                                            if s["status"] == "done" and not s["cached"])}
