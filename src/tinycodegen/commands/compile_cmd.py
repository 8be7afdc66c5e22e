"""``compile MODEL -o DIR --name NAME --backend B``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tinycodegen.api import backends, compile
from tinycodegen.errors import one_line
from tinycodegen.families.registry import DEFAULT_BACKEND, OPTIMIZE_MODES, QUANTIZE_MODES
from tinycodegen.modelio import load_model_file
from tinycodegen.packaging import FORMATS


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compile", help="write NAME.h / NAME.c (and runtime headers) for a model")
    p.add_argument("model", help="fitted model: .joblib/.pkl (runs code from the file) or .skops")
    p.add_argument("-o", "--out", default="build", help="output folder (default: build)")
    p.add_argument("--name", default="model", help="C identifier prefixing every symbol")
    p.add_argument("--backend", default=DEFAULT_BACKEND,
                   help=f"one of {', '.join(backends())} (default: {DEFAULT_BACKEND})")
    p.add_argument("--optimize", choices=OPTIMIZE_MODES, default=None,
                   help="tree ensembles: speed (trees as code) or size (packed node records); "
                        "default: the table backend, node tables (small flash on a "
                        "microcontroller, and in -Os builds); a 64-bit host at -O2 compiles "
                        "predict's walk as code instead (as fast as the speed layout there)")
    p.add_argument("--quantize", choices=QUANTIZE_MODES, default=None,
                   help="compile a quantized (integer) version of the model: int8 or int16")
    p.add_argument("--calibration", default=None, metavar="DATA",
                   help="training rows for --quantize ranges of linear models and MLPs: "
                        "nsl-kdd:train, or a .npy / .csv file (default: the model's scalers)")
    p.add_argument("--format", default="plain", choices=list(FORMATS),
                   help="plain: the C in one folder (default); cmake, arduino, platformio, zephyr, "
                        "espidf: a package for that build system (see README)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    model = load_model_file(args.model)
    rows = None
    if args.calibration:
        from tinycodegen.data import load_rows

        rows = load_rows(args.calibration, model).X
    compiled = compile(model, name=args.name, backend=args.backend,
                       quantize=args.quantize, optimize=args.optimize, calibration=rows)
    written = compiled.write(Path(args.out), format=args.format)
    for path in written:
        print(path)
    for note in compiled.source.notes:
        print(f"note: {one_line(note)}", file=sys.stderr)
    return 0
