"""Tree backends side by side on NSL-KDD (run by hand; not a test).

    python benchmarks/bench_trees.py [--quick]

For the example forest (10 trees, depth 8) and a 100-tree unbounded forest, both trained on
KDDTrain+, and for each backend (table, inline, emlearn, m2cgen): mismatches vs sklearn over
all of KDDTest+, object size (gcc -Os -c; text+data+rodata), host ns per inference (C loop over
all rows, best of 5), generation time and gcc -Os compile time. Prints ratios to the anchors.

``--targets N`` adds, for the 10 x 8 forest, flash and mean cycles on Cortex-M4F and Cortex-M0+
(emulator, stratified sample of N rows; needs arm-none-eabi-gcc and unicorn) and checks the
issue-4 targets: native flash <= 0.5x m2cgen and <= emlearn, native mean cycles <= 0.7x the
fastest anchor.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.ensemble import RandomForestClassifier

import tinycodegen
from tinycodegen.check import check
from tinycodegen.datasets import nsl_kdd
from tinycodegen.hostbench import ns_per_inference, object_size

BACKENDS = ("table", "inline", "emlearn", "m2cgen")


def measure(model, name: str, X, *, skip: tuple[str, ...] = ()) -> dict[str, dict]:
    rows: dict[str, dict] = {}
    for backend in BACKENDS:
        if backend in skip:
            continue
        print(f"  {name}: {backend} ...", flush=True)
        t0 = time.perf_counter()
        compiled = tinycodegen.compile(model, name=name, backend=backend)
        gen_s = time.perf_counter() - t0
        size = object_size(compiled.source)
        ns, _ = ns_per_inference(compiled.source, X)
        report = check(compiled, X, data="KDDTest+")
        rows[backend] = {"mismatches": report.mismatches, "bytes": size["bytes"], "ns": ns,
                         "generate_s": gen_s, "compile_s": size["compile_s"]}
    return rows


def measure_targets(model, name: str, X, n_rows: int) -> dict[str, dict]:
    """{backend: {target: {flash, cycles}}} on a stratified sample of KDDTest+."""
    from tinycodegen.targets import measure as target_measure
    from tinycodegen.targets.sampling import stratified_sample

    idx = stratified_sample(np.asarray(model.predict(X)).astype(np.int32), n_rows, 0)
    rows: dict[str, dict] = {}
    for backend in BACKENDS:
        compiled = tinycodegen.compile(model, name=name, backend=backend)
        with tempfile.TemporaryDirectory() as tmp:
            compiled.write(Path(tmp))
            for target in ("cortex-m4f", "cortex-m0plus"):
                print(f"  {name}: {backend} on {target} ...", flush=True)
                m = target_measure(Path(tmp), name, X[idx], target)
                rows.setdefault(backend, {})[target] = {"flash": m.flash_bytes,
                                                        "cycles": m.cycles_mean}
    return rows


def target_table(rows: dict[str, dict]) -> str:
    out = ["\n| backend | M4F flash | M4F mean cycles | M0+ flash | M0+ mean cycles |",
           "|---|---|---|---|---|"]
    for b, r in rows.items():
        m4, m0 = r["cortex-m4f"], r["cortex-m0plus"]
        out.append(f"| {b} | {m4['flash']:,} | {m4['cycles']:,.1f} | {m0['flash']:,} | "
                   f"{m0['cycles']:,.1f} |")
    for target in ("cortex-m4f", "cortex-m0plus"):
        anchors = [rows[a][target] for a in ("emlearn", "m2cgen") if a in rows]
        if len(anchors) < 2:
            continue
        flash_cap = min(0.5 * rows["m2cgen"][target]["flash"], rows["emlearn"][target]["flash"])
        cycle_cap = 0.7 * min(a["cycles"] for a in anchors)
        for native in ("table", "inline"):
            n = rows[native][target]
            out.append(f"- {target} {native}: flash {n['flash']:,} vs target <= {flash_cap:,.0f} "
                       f"({n['flash'] / flash_cap:.2f}x), cycles {n['cycles']:,.1f} vs target "
                       f"<= {cycle_cap:,.1f} ({n['cycles'] / cycle_cap:.2f}x)")
    return "\n".join(out)


def table(title: str, rows: dict[str, dict]) -> str:
    out = [f"\n{title}", "| backend | mismatches | bytes | ns/inference | generate s | gcc -Os s |",
           "|---|---|---|---|---|---|"]
    for b, r in rows.items():
        out.append(f"| {b} | {r['mismatches']} | {r['bytes']:,} | {r['ns']:.1f} | "
                   f"{r['generate_s']:.2f} | {r['compile_s']:.2f} |")
    for native in ("table", "inline"):
        if native not in rows:
            continue
        n = rows[native]
        for anchor in ("emlearn", "m2cgen"):
            if anchor in rows:
                a = rows[anchor]
                gen = (a["generate_s"] + a["compile_s"]) / (n["generate_s"] + n["compile_s"])
                out.append(f"- {native} / {anchor}: size {n['bytes'] / a['bytes']:.2f}x, "
                           f"ns {n['ns'] / a['ns']:.2f}x, generate+compile speed-up {gen:.1f}x")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="skip the 100-tree unbounded forest")
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    ap.add_argument("--targets", type=int, metavar="N", default=0,
                    help="also measure Cortex-M4F/M0+ flash and cycles on N sampled rows")
    args = ap.parse_args()
    train, test = nsl_kdd.load("train"), nsl_kdd.load("test")
    results = {}
    rf = RandomForestClassifier(10, max_depth=8, random_state=0, n_jobs=1).fit(train.X, train.y)
    results["rf10x8"] = measure(rf, "rf10x8", test.X)
    print(table("RandomForest 10 x depth 8 (KDDTest+, 22,544 rows)", results["rf10x8"]))
    if args.targets:
        results["rf10x8_targets"] = measure_targets(rf, "rf10x8", test.X, args.targets)
        print(target_table(results["rf10x8_targets"]))
    if not args.quick:
        big = RandomForestClassifier(100, random_state=0, n_jobs=2).fit(train.X, train.y)
        big.set_params(n_jobs=1)
        results["rf100"] = measure(big, "rf100", test.X)
        print(table("RandomForest 100 x unbounded (KDDTest+)", results["rf100"]))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
