"""Exhaustive check (not a test: ~2 minutes) of the MLP fast path's float activations.

For every float v with |v| below the clamp (and by symmetry its negative), compares
tcg_tanh_f32 / tcg_logistic_f32 (c_runtime/tcg_act32.h) with the double tanh / expit of the C
library, and asserts that the largest absolute error stays within EPS32 of tinycodegen/ir/mlp.py,
the constant the fast path's error bound uses. Above the clamp both return +-1 (or 0 / 1), whose
error (< 3.1e-8 for tanh beyond 9, < 4.2e-8 for the logistic beyond 17) is checked at the clamp.

    python benchmarks/verify_act32.py
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from tinycodegen.core.runtime import runtime_files
from tinycodegen.families.mlp.activations import EPS32

PROGRAM = r"""
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "tcg_act32.h"
int main(void)
{
    double mt = 0.0, ml = 0.0;
    float at = 0.0f, al = 0.0f;
    uint32_t b;
    for (b = 0u;; ++b) {
        float v;
        double l, e;
        memcpy(&v, &b, sizeof v);
        if (!(v <= 17.5f)) break;
        l = 1.0 / (1.0 + exp(-(double)v));
        e = fabs((double)tcg_logistic_f32(v) - l);
        if (fabs((double)tcg_logistic_f32(-v) - (1.0 - l)) > e)
            e = fabs((double)tcg_logistic_f32(-v) - (1.0 - l));
        if (e > ml) { ml = e; al = v; }
        if (v <= 9.5f) {
            e = fabs((double)tcg_tanh_f32(v) - tanh((double)v));
            if (fabs((double)tcg_tanh_f32(-v) + tanh((double)v)) > e)
                e = fabs((double)tcg_tanh_f32(-v) + tanh((double)v));
            if (e > mt) { mt = e; at = v; }
        }
    }
    printf("%.9g %.9g %.9g %.9g\n", mt, (double)at, ml, (double)al);
    return 0;
}
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for h, text in runtime_files(("tcg_act32.h",)).items():  # and what it includes
            (folder / h).write_text(text)
        (folder / "act.c").write_text(PROGRAM)
        exe = folder / "act"
        subprocess.run(["gcc", "-std=c99", "-O2", "-ffp-contract=off", "-o", str(exe),
                        str(folder / "act.c"), "-lm"], check=True)
        out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    mt, at, ml, al = (float(v) for v in out.split())
    print(f"tanh:     max |error| {mt:.4g} at {at:.9g} (EPS32 {EPS32['tanh']:.4g})")
    print(f"logistic: max |error| {ml:.4g} at {al:.9g} (EPS32 {EPS32['logistic']:.4g})")
    assert mt <= EPS32["tanh"] and ml <= EPS32["logistic"], "declared bound too small"
    print("OK: the declared bounds hold for every float input")


if __name__ == "__main__":
    main()
