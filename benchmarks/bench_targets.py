"""tinycodegen vs emlearn / m2cgen on microcontrollers, like for like, in one run (by hand).

    python benchmarks/bench_targets.py [--quick] [--targets cortex-m4f,cortex-m0plus]
        [--models RF,DT,LR,SVM,MLP,Hybrid] [--budget 4e7] [--rows N] [--out bench-targets]

Primary comparison, like for like: each tool gets the model it supports on the input its users
give it. Bare trees (``RF-raw``: RandomForest 10 x depth 8, ``DT-raw``: a depth-8 tree) trained
on raw NSL-KDD features (no scaler: a tree needs none, and that is how an emlearn or m2cgen user
feeds one), through the speed and size layouts, the table and inline backends, emlearn (float)
and m2cgen; a bare LogisticRegression (``LR-scaled``) on the MinMax-scaled vector that its
m2cgen user computes before calling the C (emlearn has no LR). Beside it, labelled as such,
the study's Pipelines (tinycodegen.study.models: MinMax /
one-hot preprocessing in front; the anchors, which have no preprocessing of their own, are given
tinycodegen's in double). Every KDDTest+ row is checked against sklearn on the host and measured
on each target (tinycodegen.report.collect: cross-compiled harness, unicorn, TRM cycle tables;
rows beyond the instruction budget become a seeded stratified sample, its size printed).

Per model and target it prints flash, RAM, mean/max cycles and mismatches, and the goals of
tinycodegen.report.goals (the layouts against emlearn: speed cycles, size flash and cycles;
other native backends against both anchors) marked met or MISSED with the ratio. Targets are
those of tinycodegen.targets.TARGETS. Writes bench.md and bench.json to --out.
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
TREE_KINDS = ("tree", "tree_ensemble", "pipeline_tree")
# Like for like: raw features for trees; for LR (m2cgen's linear model) the MinMax-scaled
# vector an m2cgen user computes before calling the C.
BARE_MODELS = ("RF-raw", "DT-raw", "LR-scaled")
FLOAT_MODELS = (*BARE_MODELS, "RF", "DT", "LR", "SVM", "MLP", "Hybrid")
QUICK_MODELS = ("DT-raw", "LR-scaled")
TREE_BACKENDS = ("speed", "size", "table", "inline")


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
    missing = [n for n in names if n not in have and n not in BARE_MODELS]
    if missing:
        sys.exit(f"unknown model(s) {missing}; choose from {sorted(have)}")
    return [have[n] for n in names if n not in BARE_MODELS]


def backends_for(model: Any) -> tuple[str, ...]:
    from tinycodegen.lower import load as load_ir

    native = TREE_BACKENDS if load_ir(model).kind in TREE_KINDS else ("table",)
    return (*native, *ANCHORS)


def bare_model(name: str, X: Any, y: Any, seed: int = 0) -> Any:
    """The bare trees of the like-for-like comparison, fitted on raw features."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.tree import DecisionTreeClassifier

    if name == "RF-raw":
        return RandomForestClassifier(10, max_depth=8, random_state=seed, n_jobs=1).fit(X, y)
    if name == "LR-scaled":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(max_iter=2000).fit(X, y)
    return DecisionTreeClassifier(max_depth=8, random_state=seed).fit(X, y)


def scaled(train_X: Any, X: Any) -> Any:
    """X MinMax-scaled with train_X's ranges, as float32 (what the user feeds the C)."""
    from sklearn.preprocessing import MinMaxScaler

    scaler = MinMaxScaler().fit(np.asarray(train_X, dtype=np.float64))
    return scaler.transform(np.asarray(X, dtype=np.float64)).astype(np.float32)


def _f(v: float | None, digits: int = 0) -> str:
    return "—" if v is None else f"{v:,.{digits}f}"


def model_table(model: str, target: str, rows: list[ReportRow], goals: list[Goal]) -> str:
    sel = [r for r in rows if r.model == model and r.target == target]
    n_meas = sorted({r.measured_rows for r in sel if r.measured_rows})
    if target == "host":
        return host_table(model, sel, goals)
    out = [f"### {model} on {target}", "",
           "| backend | flash B | RAM B (+stack) | mean cycles | max cycles | mismatches | "
           "rows measured | note |", "|---|---|---|---|---|---|---|---|"]
    for r in sel:
        ram = "—" if r.ram_bytes is None else f"{r.ram_bytes:,} (+{r.stack_bytes or 0:,})"
        note = (r.note or ("emulator differs from host C" if r.emulator_agrees is False else ""))
        out.append(f"| {r.backend} | {_f(r.flash_bytes)} | {ram} | {_f(r.cycles_mean, 1)} | "
                   f"{_f(r.cycles_max)} | {_f(r.mismatches)} | {_f(r.measured_rows)} | "
                   f"{note.replace('|', '/')} |")
    out += ["", "| native | goal | ratio (native / anchor) and status |", "|---|---|---|"]
    out += [f"| {g.backend} | {g.goal} | {_goal_cell(g)} |" for g in goals
            if g.model == model and g.target == target]
    samples = sorted({r.sample_note for r in sel if r.sample_note})
    if len(n_meas) > 1 or samples:
        out += ["", "Samples: " + "; ".join(f"{r.backend}: {r.sample_note}" for r in sel
                                           if r.sample_note)]
    return "\n".join(out)


def host_table(model: str, sel: list[ReportRow], goals: list[Goal]) -> str:
    """Host rows: ns per row (gcc -O2, best pass over the rows) and callgrind instructions."""
    out = [f"### {model} on host", "",
           "| backend | ns per row | mean instructions | mismatches | rows measured | note |",
           "|---|---|---|---|---|---|"]
    out += [f"| {r.backend} | {_f(r.ns_per_inference, 1)} | {_f(r.instr_mean, 1)} | "
            f"{_f(r.mismatches)} | {_f(r.measured_rows)} | {(r.note or '').replace('|', '/')} |"
            for r in sel]
    out += ["", "| native | goal | ratio (native / anchor) and status |", "|---|---|---|"]
    out += [f"| {g.backend} | {g.goal} | {_goal_cell(g)} |" for g in goals
            if g.model == model and g.target == "host"]
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
        rows: int | None, seed: int = 0, only: tuple[str, ...] = ()
        ) -> tuple[list[ReportRow], list[Goal], dict[str, Any]]:
    """The bench; ``only`` (if given) restricts it to those backends."""
    from tinycodegen.study.run import train_cached

    every = tuple(b for b in (*TREE_BACKENDS, *ANCHORS) if not only or b in only)

    def chosen(model: Any) -> tuple[str, ...]:
        return tuple(b for b in backends_for(model) if b in every)

    t0 = time.perf_counter()
    full, test = load_data(rows, seed)
    report: list[ReportRow] = []
    bare = [n for n in names if n in BARE_MODELS]
    for n in bare:  # like for like: sklearn and every tool see the same float32 vector
        X, Xt = np.asarray(full.X, dtype=np.float32), np.asarray(test.X, dtype=np.float32)
        if n == "LR-scaled":
            X, Xt = scaled(full.X, X), scaled(full.X, Xt)
        report += collect([(n, bare_model(n, X, full.y, seed))], Xt, targets=targets,
                          backends=every, budget=budget, backends_for=chosen)
    models = []
    for i, spec in enumerate(specs(names), 1):
        print(f"[{i}] training {spec.name} (cached by content hash) ...", file=sys.stderr,
              flush=True)
        model, _ = train_cached(spec, full, seed)
        models.append((spec.name, model))
    if models:  # Pipelines: the anchors get tinycodegen's preprocessing in double
        report += collect(models, test.X, X_sklearn=test.frame, targets=targets,
                          backends=every, budget=budget, backends_for=chosen)
    meta = {"models": list(names), "targets": list(targets), "budget": budget,
            "data": f"{test.label}, {len(test.y)} rows", "seconds": time.perf_counter() - t0,
            "like_for_like": bare}
    return report, judge(report), meta


def render(report: list[ReportRow], goals: list[Goal], meta: dict[str, Any]) -> str:
    head = [f"# tinycodegen vs emlearn / m2cgen on {', '.join(meta['targets'])}", "",
            f"Data: {meta['data']}; instruction budget per measurement: "
            f"{meta['budget'] or 'none (every row)'}; {meta['seconds']:.0f} s.", ""]
    names = list(dict.fromkeys(r.model for r in report))
    bare = [m for m in names if m in meta.get("like_for_like", [])]
    body = []
    if bare:
        body.append("## Like for like: bare trees on raw features (what emlearn and m2cgen "
                    "users compile)")
        body += [model_table(m, t, report, goals) for m in bare for t in meta["targets"]]
    piped = [m for m in names if m not in bare]
    if piped:
        body.append("## Pipelines (preprocessing in front; the anchors are given tinycodegen's "
                    "in double: not what their users run)")
        body += [model_table(m, t, report, goals) for m in piped for t in meta["targets"]]
    cycle_models = sorted({f"{r.target}: {r.cycle_model}" for r in report if r.cycle_model})
    return "\n".join(head + ["\n\n".join(body), "", summary(goals), "", "Cycle models:",
                             *[f"- {c}" for c in cycle_models]]) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--targets", default="cortex-m4f,cortex-m0plus,atmega328p",
                    help="comma-separated MCU targets (tinycodegen.targets.TARGETS)")
    ap.add_argument("--models", default=",".join(FLOAT_MODELS))
    ap.add_argument("--budget", type=float, default=DEFAULT_BUDGET,
                    help="emulated instructions per measurement before sampling (0 = all rows)")
    ap.add_argument("--rows", type=int, default=None,
                    help="use a seeded stratified subset of KDDTest+ of this many rows")
    ap.add_argument("--quick", action="store_true",
                    help=f"smoke test: {', '.join(QUICK_MODELS)} on 300 rows")
    ap.add_argument("--backends", default="",
                    help="comma-separated backends to measure (default: all; e.g. size,emlearn)")
    ap.add_argument("--out", type=Path, default=Path("bench-targets"))
    args = ap.parse_args(argv)
    names = QUICK_MODELS if args.quick else tuple(m for m in args.models.split(",") if m)
    rows = 300 if args.quick and args.rows is None else args.rows
    targets = tuple(t for t in args.targets.split(",") if t)
    from tinycodegen.targets import TARGETS

    unknown = [t for t in targets if t not in TARGETS]
    if unknown:
        sys.exit(f"unknown target(s) {unknown}; choose from {', '.join(TARGETS)}")
    only = tuple(b for b in args.backends.split(",") if b)
    bad = [b for b in only if b not in (*TREE_BACKENDS, *ANCHORS)]
    if bad:
        sys.exit(f"unknown backend(s) {bad}; choose from {', '.join((*TREE_BACKENDS, *ANCHORS))}")
    report, goals, meta = run(names, targets, int(args.budget) or None, rows, only=only)
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
