"""examples/firmware: build for a hand-written model, run under QEMU, compare to host."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

FIRMWARE = Path(__file__).resolve().parents[1] / "examples" / "firmware"
TOOLS = ("arm-none-eabi-gcc", "qemu-system-arm", "make")

pytestmark = pytest.mark.skipif(
    any(shutil.which(t) is None for t in TOOLS),
    reason="needs arm-none-eabi-gcc, qemu-system-arm and make",
)

HEADER = """#ifndef LIN3_H
#define LIN3_H
#include <stdint.h>
#define LIN3_N_FEATURES 5
#define LIN3_N_CLASSES 3
int32_t lin3_predict(const float *x);
void lin3_predict_proba(const float *x, float *out);
#endif
"""

# three linear scores, argmax; hard-float arithmetic exercises the FPU enable
SOURCE = """#include "lin3.h"
#include <math.h>
static const float W[3][5] = {
    {0.5f, -1.0f, 0.25f, 2.0f, -0.75f},
    {-1.5f, 0.5f, 1.0f, -0.5f, 0.125f},
    {1.0f, 1.0f, -2.0f, 0.0f, 0.5f},
};
static const float B[3] = {0.1f, -0.2f, 0.05f};
static void scores(const float *x, float *s)
{
    for (int c = 0; c < 3; ++c) {
        s[c] = B[c];
        for (int i = 0; i < 5; ++i) {
            s[c] += W[c][i] * x[i];
        }
    }
}
int32_t lin3_predict(const float *x)
{
    float s[3];
    scores(x, s);
    if (s[0] != s[0] || s[1] != s[1] || s[2] != s[2]) {
        return -1;
    }
    int32_t best = 0;
    for (int c = 1; c < 3; ++c) {
        if (s[c] > s[best]) {
            best = c;
        }
    }
    return best;
}
void lin3_predict_proba(const float *x, float *out)
{
    float s[3], total = 0.0f;
    scores(x, s);
    for (int c = 0; c < 3; ++c) {
        out[c] = expf(s[c]);
        total += out[c];
    }
    for (int c = 0; c < 3; ++c) {
        out[c] /= total;
    }
}
"""


def test_firmware_prints_host_predictions_under_qemu(tmp_path: Path) -> None:
    from tinycodegen.targets.host import build_host, host_outputs

    model = tmp_path / "model"
    model.mkdir()
    (model / "lin3.h").write_text(HEADER)
    (model / "lin3.c").write_text(SOURCE)
    X = np.random.default_rng(7).normal(scale=2.0, size=(12, 5)).astype(np.float32)
    X[5, 2] = np.nan
    csv = tmp_path / "rows.csv"
    csv.write_text("\n".join(",".join(repr(float(v)) for v in row) for row in X) + "\n")

    build = tmp_path / "build"
    cmd = ["make", "-C", str(FIRMWARE), f"MODEL_DIR={model}", "NAME=lin3"]
    cmd += [f"ROWS={csv}", f"BUILD={build}", f"PYTHON={sys.executable}"]
    made = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stdout + made.stderr
    assert (build / "fw.elf").is_file()

    qemu = ["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-semihosting"]
    qemu += ["-kernel", str(build / "fw.elf")]
    run = subprocess.run(qemu, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    output = run.stdout + run.stderr  # QEMU sends semihosting output to stderr
    found = re.findall(r"^row (\d+): (-?\d+)\r?$", output, re.M)
    printed = {int(i): int(c) for i, c in found}
    assert sorted(printed) == list(range(len(X))), output

    expected = host_outputs(build_host(model, "lin3", tmp_path / "cache"), X)
    assert [printed[i] for i in range(len(X))] == expected.tolist()
    assert expected[5] == -1 and len(set(expected.tolist())) >= 3
