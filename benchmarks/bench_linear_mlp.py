"""Benchmark (not a test): linear models and MLPs on NSL-KDD, native vs m2cgen vs emlearn.

Per model and backend: host object size (``gcc -Os -c``, text + data + rodata from ``size -A``),
ns per inference (a C loop calling NAME_predict over every KDDTest+ row, ``-O2
-ffp-contract=off``, per-thread CPU time, best of N passes in each of 3 runs), mismatches
against sklearn on KDDTest+, and the native fast path's fallback rows. Baselines: a bare
41-term float dot product (for LR / LinearSVC predict) and emlearn's network (for the MLPs).
Inputs are KDDTrain+ min-max scaled with NumPy (fixed seeds).

With the ARM toolchain and unicorn installed, also mean cycles per inference on an emulated
Cortex-M4F (tinycodegen.targets, 1000-row stratified sample; the exact path's rare soft-double
fallbacks are included).

    TINYCODEGEN_DATA=... python benchmarks/bench_linear_mlp.py [--passes 15] [--mcu none]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import warnings
from pathlib import Path

import numpy as np

import tinycodegen
from tinycodegen.check import check
from tinycodegen.core.csource import c_float
from tinycodegen.datasets import nsl_kdd

REPEAT = 3
HARNESS = r"""#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>
int32_t %(fn)s(const float *x);
int main(int argc, char **argv)
{
    FILE *f = fopen(argv[1], "rb");
    long rows = atol(argv[2]), passes = atol(argv[3]), nf = atol(argv[4]), r, p;
    float *X = malloc(sizeof(float) * (size_t)(rows * nf));
    double best = 1e30;
    long acc = 0;
    if (!f || fread(X, sizeof(float), (size_t)(rows * nf), f) != (size_t)(rows * nf)) return 1;
    for (p = 0; p < passes; ++p) {
        struct timespec t0, t1;
        double dt;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
        for (r = 0; r < rows; ++r) acc += %(fn)s(X + r * nf);
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
        dt = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
        if (dt < best) best = dt;
    }
    printf("%%.3f %%ld\n", best / (double)rows, acc);
    return 0;
}
"""
BARE = """#include "%(name)s.h"
static const float w[%(n)d] = { %(w)s };
int32_t %(name)s_predict(const float *x)
{
    float s = %(b)s;
    int32_t i;
    for (i = 0; i < %(n)d; ++i) {
        s = s + w[i] * x[i];
    }
    return s > 0.0f ? 1 : 0;
}
void %(name)s_predict_proba(const float *x, float *out)
{
    out[1] = (float)%(name)s_predict(x);
    out[0] = 1.0f - out[1];
}
"""


def obj_size(folder: Path, c_file: str) -> int:
    obj = folder / (c_file[:-2] + ".os")
    subprocess.run(["gcc", "-std=c99", "-w", "-Os", "-ffp-contract=off", "-c", str(folder / c_file),
                    "-o", str(obj)], check=True)
    out = subprocess.run(["size", "-A", str(obj)], check=True, capture_output=True, text=True)
    total = 0
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith((".text", ".data", ".rodata")):
            total += int(parts[1])
    return total


def time_ns(folder: Path, c_files: list[str], fn: str, X: np.ndarray, passes: int) -> float:
    host = folder / "host"  # apart from the model's folder, which the MCU build compiles whole
    host.mkdir(exist_ok=True)
    (host / "bench_main.c").write_text(HARNESS % {"fn": fn})
    (host / "x.bin").write_bytes(np.ascontiguousarray(X, dtype=np.float32).tobytes())
    exe = host / "bench"
    subprocess.run(["gcc", "-std=c99", "-w", "-O2", "-ffp-contract=off", "-o", str(exe),
                    *[str(folder / c) for c in c_files], str(host / "bench_main.c"), "-lm"],
                   check=True)
    folder = host
    best = float("inf")
    for _ in range(REPEAT):  # the host is shared: keep the best of a few separate runs
        out = subprocess.run([str(exe), str(folder / "x.bin"), str(len(X)), str(passes),
                              str(X.shape[1])], check=True, capture_output=True, text=True)
        best = min(best, float(out.stdout.split()[0]))
    return best


def measure(folder: Path, name: str, c_files: list[str], X: np.ndarray, passes: int,
            mcu: str) -> tuple[int, float, float | None]:
    """(host object bytes, host ns per inference, mean MCU cycles over a 1000-row sample)."""
    size = sum(obj_size(folder, c) for c in c_files)
    ns = time_ns(folder, c_files, f"{name}_predict", X, passes)
    cycles = None
    if mcu != "none":
        from tinycodegen.targets import TargetError
        from tinycodegen.targets import measure as mcu_measure

        try:
            cycles = mcu_measure(folder, name, X, mcu, max_rows=1000).cycles_mean
        except (TargetError, tinycodegen.TinycodegenError):
            cycles = None
    return size, ns, cycles


def measure_compiled(compiled: tinycodegen.CompiledModel, X: np.ndarray, passes: int,
                     mcu: str) -> tuple[int, float, float | None]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        compiled.write(folder)
        c_files = sorted(f for f in compiled.source.files if f.endswith(".c"))
        return measure(folder, compiled.name, c_files, X, passes, mcu)


def bare(coef: np.ndarray, intercept: float, X: np.ndarray, passes: int,
         mcu: str) -> tuple[int, float, float | None]:
    """The baseline: one float accumulator, 41 multiply-adds, sign (no bound, no checks)."""
    from tinycodegen.core.base import ModelMeta
    from tinycodegen.core.csource import header

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        meta = ModelMeta(n_features=len(coef), classes=(0, 1), estimator="bare dot product")
        (folder / "bare.h").write_text(header(meta, "bare", "bare"))
        w = ", ".join(c_float(v) for v in coef)
        (folder / "bare.c").write_text(BARE % {"name": "bare", "n": len(coef), "w": w,
                                               "b": c_float(intercept)})
        return measure(folder, "bare", ["bare.c"], X, passes, mcu)


def models() -> dict[str, object]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.svm import LinearSVC

    return {
        "LogisticRegression": LogisticRegression(max_iter=1000),
        "LinearSVC": LinearSVC(random_state=0),
        "MLP 41-16-2 relu": MLPClassifier((16,), max_iter=10, random_state=0),
        "MLP 41-32-16-2 relu": MLPClassifier((32, 16), max_iter=10, random_state=0),
        "MLP 41-16-2 tanh": MLPClassifier((16,), activation="tanh", max_iter=10, random_state=0),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--passes", type=int, default=15)
    ap.add_argument("--mcu", default="cortex-m4f",
                    help="also count cycles on this emulated target (cortex-m4f, cortex-m0plus; "
                         "none to skip)")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # fits are much faster without BLAS threads competing on a busy host
    train, test = nsl_kdd.load("train"), nsl_kdd.load("test")
    lo, hi = train.X.min(axis=0).astype(np.float64), train.X.max(axis=0).astype(np.float64)
    span = np.where(hi > lo, hi - lo, 1.0)
    Xtr = ((train.X - lo) / span).astype(np.float32)
    Xte = ((test.X - lo) / span).astype(np.float32)
    rows = []
    for label, model in models().items():
        model.fit(Xtr, train.y)
        native = None
        for backend in ("table", "m2cgen", "emlearn"):
            try:
                compiled = tinycodegen.compile(model, name="bm", backend=backend)
            except tinycodegen.TinycodegenError:
                continue
            rep = check(compiled, Xte)
            size, ns, cyc = measure_compiled(compiled, Xte, args.passes, args.mcu)
            rows.append([label, backend, rep.mismatches, rep.proba_mismatches,
                         rep.fallback_rows, size, ns, cyc, ""])
            if backend == "table":
                native = (size, ns, cyc)
            else:
                rows[-1][-1] = f"native/{backend}: size {native[0] / size:.2f}x, " + ratios(
                    native, ns, cyc)
        if hasattr(model, "coef_") and model.coef_.shape[0] == 1:
            size, ns, cyc = bare(model.coef_[0], float(model.intercept_[0]), Xte, args.passes,
                                 args.mcu)
            rows.append([label, "bare float dot", None, None, None, size, ns, cyc,
                         "native/bare: " + ratios(native, ns, cyc) + " (target <= 1.5x)"])
    print(f"{'model':22} {'backend':15} {'mism':>5} {'proba':>6} {'fallbk':>6} {'bytes':>7} "
          f"{'host ns':>8} {args.mcu + ' cyc':>16}  ratio")
    for r in rows:
        cells = ["-" if v is None else v for v in r[2:5]]
        cyc = "-" if r[7] is None else f"{r[7]:.0f}"
        print(f"{r[0]:22} {r[1]:15} {cells[0]:>5} {cells[1]:>6} {cells[2]:>6} {r[5]:>7} "
              f"{r[6]:>8.2f} {cyc:>16}  {r[8]}")


def ratios(native: tuple, ns: float, cyc: float | None) -> str:
    out = f"host time {native[1] / ns:.2f}x"
    if cyc is not None and native[2] is not None:
        out += f", MCU cycles {native[2] / cyc:.2f}x"
    return out

if __name__ == "__main__":
    main()
