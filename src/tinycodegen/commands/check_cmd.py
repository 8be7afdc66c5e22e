"""``check MODEL --data nsl-kdd:test [--json]``: C vs sklearn on every row."""

from __future__ import annotations

import argparse

from tinycodegen.api import backends, compile
from tinycodegen.check import check
from tinycodegen.data import load_rows
from tinycodegen.families.registry import DEFAULT_BACKEND, OPTIMIZE_MODES, QUANTIZE_MODES
from tinycodegen.modelio import load_model_file


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="build the C and compare it with sklearn on every row")
    p.add_argument("model", help="fitted model: .joblib/.pkl (runs code from the file) or .skops")
    p.add_argument("--data", default="nsl-kdd:test",
                   help="nsl-kdd:<train|train20|test|test21>, or a .npy/.csv file")
    p.add_argument("--labels", default="binary", choices=("binary", "5class"))
    p.add_argument("--name", default="model")
    p.add_argument("--backend", default=DEFAULT_BACKEND,
                   help=f"one of {', '.join(backends())} (default: {DEFAULT_BACKEND})")
    p.add_argument("--optimize", choices=OPTIMIZE_MODES, default=None,
                   help="tree ensembles: speed (trees as code) or size (packed node records); "
                        "default: the table backend")
    p.add_argument("--quantize", choices=QUANTIZE_MODES, default=None,
                   help="compile a quantized (integer) version of the model: int8 or int16")
    p.add_argument("--calibration", default=None, metavar="DATA",
                   help="training rows for --quantize ranges of linear models and MLPs "
                        "(as --data; default: the model's scalers)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    model = load_model_file(args.model)
    calibration = load_rows(args.calibration, model).X if args.calibration else None
    compiled = compile(model, name=args.name, backend=args.backend,
                       quantize=args.quantize, optimize=args.optimize, calibration=calibration)
    rows = load_rows(args.data, model, labels=args.labels)
    report = check(compiled, rows.X, X_sklearn=rows.X_sklearn, data=rows.label, y=rows.y)
    print(report.to_json() if args.json else report.to_text())
    return 0 if report.ok else 1
