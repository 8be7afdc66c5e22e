"""``search``: the most accurate model that fits a device budget (locally or on Dask)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tinycodegen.packaging import FORMATS


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("search", help="find the most accurate model that fits a device budget")
    p.add_argument("--data", default="nsl-kdd", choices=["nsl-kdd"],
                   help="training data (KDDTrain+, split 80/20 for ranking; KDDTest+ for the "
                        "winner only)")
    p.add_argument("--target", default="cortex-m0plus", help="device to measure on")
    p.add_argument("--max-flash", type=int, default=None, help="bytes")
    p.add_argument("--max-ram", type=int, default=None, help="bytes")
    p.add_argument("--max-cycles", type=float, default=None,
                   help="mean cycles per inference over the measured validation rows")
    p.add_argument("--out", default="search", help="output folder (results cached there)")
    p.add_argument("--name", default="best_model", help="C name of the winner")
    p.add_argument("--format", default="plain", choices=list(FORMATS),
                   help="how the winner's C is written (as compile --format)")
    p.add_argument("--families", default=None,
                   help="comma-separated subset of: DecisionTree, RandomForest, "
                        "LogisticRegression, LinearSVC, MLP, SVC (RBF, trained on a 2,000-row "
                        "stratified subsample)")
    p.add_argument("--quantize", default="none,int16,int8",
                   help="quantizations to try (default: none,int16,int8)")
    p.add_argument("--optimize", default="none,speed,size",
                   help="tree layouts to try (none = the default table layout; quantized "
                        "trees: none,speed)")
    p.add_argument("--train-rows", type=int, default=20_000,
                   help="stratified training rows from KDDTrain+'s 80%% split (default 20,000)")
    p.add_argument("--val-rows", type=int, default=None,
                   help="validation rows from the held-out 20%% (default: all 25,195)")
    p.add_argument("--measure-rows", type=int, default=64,
                   help="validation rows emulated per candidate for cycles (stratified)")
    p.add_argument("--jobs", type=int, default=-1, help="local processes (default: all cores)")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address (tcp://HOST:8786)")
    p.add_argument("--time-budget", type=float, default=None,
                   help="seconds after which no new candidate starts")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tinycodegen.core.csource import validate_c_name
    from tinycodegen.errors import TinycodegenError
    from tinycodegen.search.run import Budget, nsl_kdd_data, run_search
    from tinycodegen.search.space import FAMILIES, LAYOUTS, QUANTIZE, default_space
    from tinycodegen.search.write import finish_winner, table, write_outputs
    from tinycodegen.targets.toolchain import check_target

    validate_c_name(args.name)
    check_target(args.target)
    fams = tuple(args.families.split(",")) if args.families else None
    for f in fams or ():
        if f not in FAMILIES:
            raise TinycodegenError(f"unknown family {f!r}; choose from {', '.join(FAMILIES)}")
    qs = tuple(q for q in args.quantize.split(",") if q)
    for q in qs:
        if q not in QUANTIZE:
            raise TinycodegenError(f"unknown quantization {q!r}; choose from "
                                   f"{', '.join(QUANTIZE)}")
    layouts = tuple(o for o in args.optimize.split(",") if o)
    for o in layouts:
        if o not in LAYOUTS:
            raise TinycodegenError(f"unknown layout {o!r}; choose from {', '.join(LAYOUTS)}")
    space = default_space(fams, qs, layouts)
    budget = Budget(args.target, args.max_flash, args.max_ram, args.max_cycles)
    data = nsl_kdd_data(args.seed, args.train_rows, args.val_rows)
    out = Path(args.out)
    res = run_search(space, budget, out, data=data, measure_rows=args.measure_rows,
                     jobs=args.jobs, scheduler=args.scheduler, time_budget=args.time_budget)
    finish_winner(res, data, out, args.name, args.format)
    obj = write_outputs(res, out)
    if args.json:
        print(json.dumps(obj, default=float))
    else:
        print(table(res))
        print(out / "search.md")
    return 0 if res.winner is not None else 1
