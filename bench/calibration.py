"""Calibration of the statistics layer: simulated boards with known truth (harness.core.stats.simulate).

For each null scenario (a baseline and 3 variants x 6 cells, or `harness check`'s one run x 6 cells
against a baseline of 3 replicates), the share of boards with any false mark: with Holm (and its
Clopper-Pearson 95% interval) and uncorrected. For each planted scenario, the power at the MDE that
`harness.core.stats.power` reports for the design (at the board's per-test level alpha / 18). Prints
Markdown for the README; seeded, so a rerun prints the same table. Run by hand, not a test:

    .venv/bin/python bench/calibration.py [--boards 2000] [--seed 0]
"""

from __future__ import annotations

import argparse
import time

from harness.core.stats.simulate import (
    ALPHA,
    CROSSED_POWER,
    MCNEMAR_POWER,
    NULLS,
    crossed_power,
    mcnemar_power_sim,
    null_calibration,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boards", type=int, default=2000, help="simulated boards per scenario (>= 1000 for the README)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()

    print(f"False positives on null boards (alpha {ALPHA}; a board: 18 tests, a check: 6)\n")
    print("| scenario | boards | FWER, Holm | 95% CI | FWER, uncorrected | single tests p < 0.05 |")
    print("| --- | ---: | ---: | --- | ---: | ---: |")
    for i, (name, design) in enumerate(NULLS.items()):
        r = null_calibration(design, args.boards, seed=args.seed + i)
        print(f"| {name} | {r.boards} | {r.fwer:.3f} | [{r.fwer_low:.3f}, {r.fwer_high:.3f}] | {r.uncorrected:.3f} | {r.per_test:.3f} |")

    print("\nPower at the reported MDE (target 0.80; per-test level alpha / 18)\n")
    print("| scenario | boards | alpha per test | MDE (points) | power |")
    print("| --- | ---: | ---: | ---: | ---: |")
    m = mcnemar_power_sim(**MCNEMAR_POWER, boards=args.boards, seed=args.seed + 100)  # type: ignore[arg-type]
    label = f"binary, R=1 (McNemar), n={MCNEMAR_POWER['n']}, noise q={MCNEMAR_POWER['noise']}"
    print(f"| {label} | {m.boards} | {m.alpha:.4f} | {m.mde:.1f} | {m.power:.3f} |")
    for i, (name, design) in enumerate(CROSSED_POWER.items()):
        r = crossed_power(design, args.boards, seed=args.seed + 200 + i)
        print(f"| {name}, n={design.n} | {r.boards} | {r.alpha:.4f} | {r.mde:.1f} | {r.power:.3f} |")
    print(f"\n({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
