"""Issue 4's targets in one run: native vs emlearn vs m2cgen on Cortex-M (run by hand).

    python benchmarks/bench_targets.py [--quick] [--targets cortex-m4f,cortex-m0plus]
        [--models RF,DT,LR,SVM,MLP,Hybrid] [--budget 4e7] [--rows N] [--out bench-targets]

The study's float models (tinycodegen.study.models: shallow RF 10 x 8, LR, LinearSVC, MLP 41-16,
SVM+RF soft voting) plus a DecisionTreeClassifier of depth 8, all Pipelines trained on NSL-KDD
KDDTrain+ with the study's cached trainer (models are cached by content hash). Each goes through
the native backends (table, and inline for trees), emlearn and m2cgen (where a tool cannot take
a model its rows say "n/a" and why), is checked against sklearn on every KDDTest+ row, and is
measured on each target (tinycodegen.report.collect: cross-compiled harness, unicorn, TRM cycle
tables; rows beyond the instruction budget become a seeded stratified sample, its size printed).

Per model and target it prints flash, RAM, mean/max cycles, mismatches and the issue's ratios
(native/m2cgen flash <= 0.5, native/emlearn flash <= 1, native mean cycles / fastest anchor's
<= 0.7, 0 mismatches) marked met or MISSED and by how much, all computed from the measured
numbers by tinycodegen.report.goals. Writes bench.md and bench.json to --out.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from tinycodegen.report.collect import DEFAULT_BUDGET, ReportRow, collect
from tinycodegen.report.goals import Goal, judge
from tinycodegen.report.render import as_json

ANCHORS = ("emlearn", "m2cgen")
TREE_KINDS = ("tree", "tree_ensemble")
FLOAT_MODELS = ("RF", "DT", "LR", "SVM", "MLP", "Hybrid")
QUICK_MODELS = ("DT", "LR")


def dt_spec(depth: int = 8) -> Any:
    """A DecisionTreeClassifier of depth ``depth`` in the study's tree Pipeline (the study has
    no single tree)."""
    from tinycodegen.study.models import ModelSpec, _pipe

    def build(seed: int) -> Any:
        from sklearn.tree import DecisionTreeClassifier

        return _pipe("scale", DecisionTreeClassifier(max_depth=depth, random_state=seed))

    return ModelSpec("DT", "Decision Tree", False, build, note=f"depth {depth}")


def specs(names: tuple[str, ...]) -> list[Any]:
    from tinycodegen.study.models import SPECS

    have = {s.name: s for s in SPECS if not s.tiny}
    have["DT"] = dt_spec()
    missing = [n for n in names if n not in have]
    if missing:
        sys.exit(f"unknown model(s) {missing}; choose from {sorted(have)}")
    return [have[n] for n in names]


def backends_for(model: Any) -> tuple[str, ...]:
    from tinycodegen.loaders import load_ir

    native = ("table", "inline") if load_ir(model).kind in TREE_KINDS else ("table",)
    return (*native, *ANCHORS)


def _f(v: float | None, digits: int = 0) -> str:
    return "—" if v is None else f"{v:,.{digits}f}"


def model_table(model: str, target: str, rows: list[ReportRow], goals: list[Goal]) -> str:
    sel = [r for r in rows if r.model == model and r.target == target]
    n_meas = sorted({r.measured_rows for r in sel if r.measured_rows})
    out = [f"### {model} on {target}", "",
           "| backend | flash B | RAM B (+stack) | mean cycles | max cycles | mismatches | "
           "rows measured | note |", "|---|---|---|---|---|---|---|---|"]
    for r in sel:
        ram = "—" if r.ram_bytes is None else f"{r.ram_bytes:,} (+{r.stack_bytes or 0:,})"
        note = (r.note or ("emulator differs from host C" if r.emulator_agrees is False else ""))
        out.append(f"| {r.backend} | {_f(r.flash_bytes)} | {ram} | {_f(r.cycles_mean, 1)} | "
                   f"{_f(r.cycles_max)} | {_f(r.mismatches)} | {_f(r.measured_rows)} | "
                   f"{note.replace('|', '/')} |")
    out += ["", "| native | native/m2cgen flash (<= 0.5) | native/emlearn flash (<= 1) | "
            "native/fastest anchor cycles (<= 0.7) | 0 mismatches |", "|---|---|---|---|---|"]
    natives = list(dict.fromkeys(g.backend for g in goals
                                 if g.model == model and g.target == target))
    for b in natives:
        cells = [_goal_cell(g) for g in goals
                 if g.model == model and g.target == target and g.backend == b]
        out.append(f"| {b} | " + " | ".join(cells) + " |")
    samples = sorted({r.sample_note for r in sel if r.sample_note})
    if len(n_meas) > 1 or samples:
        out += ["", "Samples: " + "; ".join(f"{r.backend}: {r.sample_note}" for r in sel
                                           if r.sample_note)]
    return "\n".join(out)


def _goal_cell(g: Goal) -> str:
    if g.goal == "0 mismatches":
        return g.status()
    if g.ratio is None:
        return g.status()
    rows = ""
    if g.goal.startswith("mean") and g.rows and g.anchor_rows and g.rows != g.anchor_rows:
        rows = f", means over {g.rows:,} / {g.anchor_rows:,} rows"
    return (f"{g.ratio:.2f}x ({g.value:,.0f} / {g.anchor} {g.anchor_value:,.0f}{rows}): "
            f"{g.status()}")


def summary(goals: list[Goal]) -> str:
    met = sum(g.met is True for g in goals)
    missed = [g for g in goals if g.met is False]
    na = sum(g.met is None for g in goals)
    lines = [f"Goals: {met} met, {len(missed)} missed, {na} n/a."]
    lines += [f"- MISSED {g.model}/{g.target}/{g.backend}: {g.goal}: {g.note}" for g in missed]
    return "\n".join(lines)


def load_data(rows: int | None, seed: int) -> tuple[Any, Any]:
    from tinycodegen.study.run import load_splits

    full, _, evals = load_splits(seed, None)
    test = evals["KDDTest+"]
    if rows is not None and rows < len(test.y):
        from tinycodegen.targets.sampling import stratified_sample

        idx = stratified_sample(test.y, rows, seed)
        test = type(test)(test.label, test.X[idx], test.frame[idx], test.y[idx])
    return full, test


def run(names: tuple[str, ...], targets: tuple[str, ...], budget: int | None,
        rows: int | None, seed: int = 0) -> tuple[list[ReportRow], list[Goal], dict[str, Any]]:
    from tinycodegen.study.run import train_cached

    t0 = time.perf_counter()
    full, test = load_data(rows, seed)
    models = []
    for i, spec in enumerate(specs(names), 1):
        print(f"[{i}/{len(names)}] training {spec.name} (cached by content hash) ...",
              file=sys.stderr, flush=True)
        model, _ = train_cached(spec, full, seed)
        models.append((spec.name, model))
    report = collect(models, test.X, X_sklearn=test.frame, targets=targets,
                     backends=("table", "inline", *ANCHORS), budget=budget,
                     backends_for=backends_for)
    meta = {"models": list(names), "targets": list(targets), "budget": budget,
            "data": f"{test.label}, {len(test.y)} rows", "seconds": time.perf_counter() - t0}
    return report, judge(report), meta


def render(report: list[ReportRow], goals: list[Goal], meta: dict[str, Any]) -> str:
    head = [f"# tinycodegen vs emlearn / m2cgen on {', '.join(meta['targets'])}", "",
            f"Data: {meta['data']}; instruction budget per measurement: "
            f"{meta['budget'] or 'none (every row)'}; {meta['seconds']:.0f} s.", ""]
    body = [model_table(m, t, report, goals)
            for m in dict.fromkeys(r.model for r in report) for t in meta["targets"]]
    cycle_models = sorted({f"{r.target}: {r.cycle_model}" for r in report if r.cycle_model})
    return "\n".join(head + ["\n\n".join(body), "", summary(goals), "", "Cycle models:",
                             *[f"- {c}" for c in cycle_models]]) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--targets", default="cortex-m4f",
                    help="comma-separated MCU targets: cortex-m4f, cortex-m0plus, atmega328p")
    ap.add_argument("--models", default=",".join(FLOAT_MODELS))
    ap.add_argument("--budget", type=float, default=DEFAULT_BUDGET,
                    help="emulated instructions per measurement before sampling (0 = all rows)")
    ap.add_argument("--rows", type=int, default=None,
                    help="use a seeded stratified subset of KDDTest+ of this many rows")
    ap.add_argument("--quick", action="store_true",
                    help=f"smoke test: {', '.join(QUICK_MODELS)} on 300 rows")
    ap.add_argument("--out", type=Path, default=Path("bench-targets"))
    args = ap.parse_args(argv)
    names = QUICK_MODELS if args.quick else tuple(m for m in args.models.split(",") if m)
    rows = 300 if args.quick and args.rows is None else args.rows
    targets = tuple(t for t in args.targets.split(",") if t)
    report, goals, meta = run(names, targets, int(args.budget) or None, rows)
    text = render(report, goals, meta)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.md").write_text(text)
    (args.out / "bench.json").write_text(json.dumps(as_json(report, meta), indent=2,
                                                    default=str))
    print(text)
    print(f"wrote {args.out / 'bench.md'} and {args.out / 'bench.json'}")
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
