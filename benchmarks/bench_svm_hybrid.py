"""Kernel SVM and SVM + forest hybrids on NSL-KDD (run by hand; not a test).

    python benchmarks/bench_svm_hybrid.py [--train-rows 5000] [--passes 3]

Models (binary labels, inputs MinMax-scaled in numpy and rounded to float32, trained on a fixed
stratified sample of KDDTrain+): SVC(rbf); hard voting SVC + RandomForest(10 trees, depth 8);
soft voting with SVC(probability=True) + the same forest; stacking of the two into a
LogisticRegression. Per backend (native "table"; m2cgen where it applies, i.e. the SVC):
mismatches vs sklearn over all of KDDTest+, host object size (gcc -Os -c, text+data+rodata
summed over the model's .c files), ns per inference (C loop over all KDDTest+ rows, best of
--passes), rows the exact path decided, and native / m2cgen ratios.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

from sklearn.ensemble import RandomForestClassifier, StackingClassifier, VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC

import tinycodegen
from tinycodegen.check import check
from tinycodegen.hostbench import ns_per_inference, object_size

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from svm_helpers import nsl_split, nsl_subsample  # noqa: E402

warnings.filterwarnings("ignore", category=FutureWarning)


def models(n_train: int) -> dict[str, object]:
    X, y, _ = nsl_subsample(n_train)

    def svc(prob: bool = False) -> SVC:
        return SVC(kernel="rbf", probability=prob, random_state=0)

    def rf() -> RandomForestClassifier:
        return RandomForestClassifier(10, max_depth=8, random_state=0, n_jobs=1)

    out: dict[str, object] = {"svc_rbf": svc().fit(X, y)}
    out["vote_hard"] = VotingClassifier([("svc", svc()), ("rf", rf())]).fit(X, y)
    out["vote_soft"] = VotingClassifier([("svc", svc(True)), ("rf", rf())],
                                        voting="soft").fit(X, y)
    out["stack_lr"] = StackingClassifier([("svc", svc(True)), ("rf", rf())],
                                         final_estimator=LogisticRegression()).fit(X, y)
    return out


def measure(model, name: str, backend: str, X, passes: int) -> dict:
    t0 = time.perf_counter()
    compiled = tinycodegen.compile(model, name=name, backend=backend)
    gen_s = time.perf_counter() - t0
    size = object_size(compiled.source)
    ns, _ = ns_per_inference(compiled.source, X, passes=passes)
    report = check(compiled, X, data="KDDTest+")
    return {"mismatches": report.mismatches, "bytes": size["bytes"], "ns": ns,
            "fallback": report.fallback_rows, "reference": report.reference_mismatches,
            "generate_s": gen_s, "compile_s": size["compile_s"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train-rows", type=int, default=5000)
    ap.add_argument("--passes", type=int, default=3)
    args = ap.parse_args()
    _, _, scaling = nsl_subsample(args.train_rows)
    X = nsl_split("test", scaling)
    lines = [f"\nNSL-KDD, trained on {args.train_rows} stratified KDDTrain+ rows, "
             f"{len(X)} KDDTest+ rows",
             "| model | backend | mismatches | exact-path rows | bytes | ns/inference |",
             "|---|---|---|---|---|---|"]
    for name, model in models(args.train_rows).items():
        rows = {}
        for backend in ("table", "m2cgen") if name == "svc_rbf" else ("table",):
            print(f"  {name}: {backend} ...", flush=True)
            rows[backend] = measure(model, name, backend, X, args.passes)
        if name == "svc_rbf":
            print(f"  {name}: {model.n_support_.sum()} support vectors", flush=True)
        for backend, r in rows.items():
            fb = "-" if r["fallback"] is None else f"{r['fallback']}"
            lines.append(f"| {name} | {backend} | {r['mismatches']} | {fb} | {r['bytes']:,} | "
                         f"{r['ns']:,.0f} |")
        if "m2cgen" in rows:
            n, a = rows["table"], rows["m2cgen"]
            lines.append(f"| {name} | table / m2cgen | | | {n['bytes'] / a['bytes']:.2f}x | "
                         f"{n['ns'] / a['ns']:.2f}x |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
