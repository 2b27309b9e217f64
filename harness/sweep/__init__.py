"""`harness sweep`: every data variant synthesized, trained and scored, each stage cached by the
content hash of its inputs (see `stages`); `executors` run them here or on Ray. The summary,
`ROOT/sweep.json`, maps each variant to its stages, its results and what failed."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.sweep.config import SweepConfig
from harness.sweep.executors import ChainResult, run_local, run_ray
from harness.sweep.stages import plan_variant, read_stage

SUMMARY = "sweep.json"


def run_sweep(config: SweepConfig, root: Path, executor: str = "local", jobs: int = 1, address: str | None = None,
              only: list[str] | None = None) -> dict[str, Any]:
    """Run (or reuse) every stage of every variant; write and return the summary."""
    root.mkdir(parents=True, exist_ok=True)
    variants = [v for v in config.variants if not only or v.name in only]
    if only and len(variants) != len(set(only)):
        missing = sorted(set(only) - {v.name for v in config.variants})
        raise HarnessError(f"--only: no variant named {', '.join(map(repr, missing))} in {config.source}")
    chains = {v.name: plan_variant(config, v) for v in variants}
    started = time.perf_counter()
    if executor == "local":
        results = run_local(chains, root, jobs)
    elif executor == "ray":
        results = run_ray(chains, root, address)
    else:
        raise HarnessError(f"--executor {executor!r}: expected local or ray")
    summary = _summary(config, root, chains, results, time.perf_counter() - started)
    tmp = root / (SUMMARY + ".tmp")
    tmp.write_text(json.dumps(summary, indent=2, sort_keys=True))
    os.replace(tmp, root / SUMMARY)
    return summary


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
            stages.append({"id": stage.id, "kind": stage.kind, "status": saved.get("status", "not run"),
                           "cached": bool(ran and ran.get("cached")), "seconds": saved.get("seconds"),
                           "error": saved.get("error"), "output": saved.get("output")})
        final = stages[-1]
        variants[variant.name] = {"kind": variant.kind, "status": "done" if final["status"] == "done" else "failed",
                                  "error": result.error, "stages": stages,
                                  "results": final["output"]["results"] if final["status"] == "done" else None}
    return {"name": config.name, "source": config.source, "base_model": config.base_model, "variants": variants,
            "seconds": round(seconds, 1), "stages_run": sum(1 for v in variants.values() for s in v["stages"]
                                                            if s["status"] == "done" and not s["cached"])}
