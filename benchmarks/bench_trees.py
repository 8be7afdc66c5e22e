"""Tree backends side by side on NSL-KDD (run by hand; not a test).

    python benchmarks/bench_trees.py [--quick]

For the example forest (10 trees, depth 8) and a 100-tree unbounded forest, both trained on
KDDTrain+, and for each backend (table, inline, emlearn, m2cgen): mismatches vs sklearn over
all of KDDTest+, object size (gcc -Os -c; text+data+rodata), host ns per inference (C loop over
all rows, best of 5), generation time and gcc -Os compile time. Prints ratios to the anchors.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

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
    args = ap.parse_args()
    train, test = nsl_kdd.load("train"), nsl_kdd.load("test")
    results = {}
    rf = RandomForestClassifier(10, max_depth=8, random_state=0, n_jobs=1).fit(train.X, train.y)
    results["rf10x8"] = measure(rf, "rf10x8", test.X)
    print(table("RandomForest 10 x depth 8 (KDDTest+, 22,544 rows)", results["rf10x8"]))
    if not args.quick:
        big = RandomForestClassifier(100, random_state=0, n_jobs=2).fit(train.X, train.y)
        big.set_params(n_jobs=1)
        results["rf100"] = measure(big, "rf100", test.X)
        print(table("RandomForest 100 x unbounded (KDDTest+)", results["rf100"]))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
