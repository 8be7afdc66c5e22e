"""``compile MODEL -o DIR --name NAME --backend B``."""

from __future__ import annotations

import argparse
from pathlib import Path

from tinycodegen.api import backends, compile
from tinycodegen.emit import DEFAULT_BACKEND
from tinycodegen.modelio import load_model_file


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compile", help="write NAME.h / NAME.c (and runtime headers) for a model")
    p.add_argument("model", help="fitted model: .joblib/.pkl (runs code from the file) or .skops")
    p.add_argument("-o", "--out", default="build", help="output folder (default: build)")
    p.add_argument("--name", default="model", help="C identifier prefixing every symbol")
    p.add_argument("--backend", default=DEFAULT_BACKEND,
                   help=f"one of {', '.join(backends())} (default: {DEFAULT_BACKEND})")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    model = load_model_file(args.model)
    compiled = compile(model, name=args.name, backend=args.backend)
    written = compiled.write(Path(args.out))
    for path in written:
        print(path)
    return 0
