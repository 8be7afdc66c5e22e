"""``study``: the NSL-KDD study end to end (train, compile, check, measure, report)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("study", help="train, compile, check and measure the NSL-KDD study's models")
    p.add_argument("--out", default="study", help="report folder (default: study)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=None,
                   help="subsample every data set to this many rows (a quick run)")
    p.add_argument("--measure-rows", type=int, default=None,
                   help="run only this many KDDTest+ rows (seeded, stratified) in the Cortex-M "
                        "emulator per model (default: all, within --budget)")
    p.add_argument("--budget", type=float, default=None,
                   help="emulated instructions per model and MCU target before its rows become "
                        "a fixed stratified prefix (default 4e7; 0: no limit)")
    p.add_argument("--targets", default="cortex-m4f,cortex-m0plus",
                   help="comma-separated MCU targets (also atmega328p, the Arduino Uno: "
                   "gcc-avr, avr-libc and simavr from Debian)")
    p.add_argument("--only", default=None, help="comma-separated model names (e.g. RF,LR)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tinycodegen.report.collect import DEFAULT_BUDGET
    from tinycodegen.study import run_study

    budget = DEFAULT_BUDGET if args.budget is None else int(args.budget) or None
    results = run_study(
        Path(args.out), seed=args.seed, limit=args.limit, measure_rows=args.measure_rows,
        budget=budget,
        targets=tuple(t for t in args.targets.split(",") if t),
        only=tuple(args.only.split(",")) if args.only else None,
    )
    print(Path(args.out) / "report.md")
    failed = [r.spec.name for r in results if r.error]
    return 1 if failed else 0
