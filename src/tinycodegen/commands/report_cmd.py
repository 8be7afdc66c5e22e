"""``report MODEL... --target cortex-m4f,cortex-m0plus,atmega328p,host``: flash, RAM, cycles,
parity."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tinycodegen.data import load_rows
from tinycodegen.errors import TinycodegenError
from tinycodegen.families.registry import QUANTIZE_MODES
from tinycodegen.modelio import load_model_file


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="flash, RAM, instructions and cycles per model and target")
    p.add_argument("models", nargs="+", help="fitted model files (.joblib/.pkl/.skops)")
    p.add_argument("--target", default="cortex-m4f,cortex-m0plus,host",
                   help="comma-separated: cortex-m4f, cortex-m0plus, atmega328p (Arduino Uno, "
                   "avr-gcc + simavr), host")
    p.add_argument("--backends", default="table,speed,size,emlearn,m2cgen",
                   help="comma-separated backends (a backend that cannot take a model is skipped; "
                        "speed and size are tree layouts)")
    p.add_argument("--quantize", choices=QUANTIZE_MODES, default=None,
                   help="measure the quantized (integer) model in every layout it has; emlearn "
                        "and m2cgen stay float")
    p.add_argument("--calibration", default=None, metavar="DATA",
                   help="training rows for --quantize ranges of linear models and MLPs: "
                        "nsl-kdd:train, or a .npy / .csv file (default: the model's scalers)")
    p.add_argument("--data", default="nsl-kdd:test", help="rows to run (default: all KDDTest+)")
    p.add_argument("--max-rows", type=int, default=None,
                   help="measure a seeded stratified sample of this many rows on the MCU targets")
    p.add_argument("--budget", type=float, default=None,
                   help="emulated instructions (cycles on atmega328p) per model, backend and MCU "
                   "target before the rows become a seeded stratified sample (default 4e7; 0 = "
                   "every row)")
    p.add_argument("--out", default="report", help="folder for report.md, report.json, plots")
    p.add_argument("--json", action="store_true", help="print the JSON instead of Markdown")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tinycodegen.report import collect, write_report
    from tinycodegen.report.collect import DEFAULT_BUDGET
    from tinycodegen.report.render import as_json, markdown
    from tinycodegen.targets import TARGETS

    targets = tuple(t.strip() for t in args.target.split(",") if t.strip())
    bad = [t for t in targets if t not in TARGETS]
    if bad:
        raise TinycodegenError(f"unknown target {bad[0]!r}; choose from {', '.join(TARGETS)}")
    models = []
    for path in args.models:
        models.append((Path(path).stem, load_model_file(path)))
    rows_in = load_rows(args.data, models[0][1])
    calibration = {label: load_rows(args.calibration, m).X for label, m in models} \
        if args.calibration and args.quantize else None
    limits = {t: args.max_rows for t in targets if t != "host"}
    budget = DEFAULT_BUDGET if args.budget is None else int(args.budget) or None
    rows = collect(models, rows_in.X, X_sklearn=rows_in.X_sklearn, targets=targets,
                   backends=tuple(b.strip() for b in args.backends.split(",") if b.strip()),
                   max_rows=limits, budget=budget, quantize=args.quantize,
                   calibration=calibration)
    meta = {"data": rows_in.label, "budget": budget, "quantize": args.quantize}
    written = write_report(rows, Path(args.out), meta=meta)
    if args.json:
        print(json.dumps(as_json(rows, meta), indent=2, default=str))
    else:
        print(markdown(rows))
        print("\nwrote " + ", ".join(str(p) for p in written))
    return 0 if all(r.promise_mismatches() in (0, None) for r in rows if r.backend == "table") \
        else 1
