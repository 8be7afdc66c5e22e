"""BLAS ddot orders: every replay (NumPy and C) against ddot results recorded under each x86-64
OpenBLAS kernel, the arm64 replays against register-level renderings of their source loops, the
live library under each kernel this CPU runs, and the fallback for a BLAS matching no replay."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from sklearn.svm import SVC

import tinycodegen
from blas_helpers import X86, golden_cases, golden_dir, golden_dots, replay, runnable_kernels
from helpers import REPO, STRICT
from tinycodegen.check import check
from tinycodegen.core import ddot as dd
from tinycodegen.errors import BlasOrderWarning
from tinycodegen.families.svm import exact as ex
from tinycodegen.families.svm import loader as svm_loader

RUNTIME = REPO / "c_runtime"
C_CALL = {"openblas_prescott": "tcg_ddot_sse2(x, y, n, 0)", "openblas_nehalem": "tcg_ddot_nhm",
          "openblas_sandybridge": "tcg_ddot_snb", "openblas_haswell": "tcg_ddot_hsw",
          "openblas_skylakex": "tcg_ddot_skx", "openblas_armv8": "tcg_ddot_armv8",
          "openblas_neoversen1": "tcg_ddot_neon", "sequential": "tcg_ddot_seq",
          "prescott_y_odd": "tcg_ddot_sse2(x, y, n, 1)"}


@pytest.mark.parametrize("kernel", list(X86))
def test_numpy_replay_equals_recorded_openblas(kernel: str) -> None:
    x, y, n = golden_cases()
    want = golden_dots(kernel)
    got = replay(X86[kernel][1], x, y, n)
    bad = np.flatnonzero(got != want)
    assert len(bad) == 0, f"{kernel}: {len(bad)} cases differ, lengths {n[bad][:10]}"


def c_replay(tmp_path: Path, cases: tuple, cc: list[str]) -> dict[str, np.ndarray]:
    """Every C replay of every case: one driver built with ``cc``."""
    x, y, n = cases
    rec = np.zeros(len(n), dtype=[("n", "<i4"), ("x", "<f8", 256), ("y", "<f8", 256)])
    rec["n"], rec["x"], rec["y"] = n, x, y
    rec.tofile(tmp_path / "cases.bin")
    cases_c = "".join(
        f"        case {i}: d = {c if '(' in c else c + '(x, y, n)'}; break;\n"
        for i, c in enumerate(C_CALL.values()))
    (tmp_path / "drv.c").write_text(
        '#include <stdio.h>\n#include <stdlib.h>\n#include "tcg_ddot.h"\n'
        "int main(int argc, char **argv)\n{\n    int32_t n, code = atoi(argv[1]);\n"
        "    double x[256], y[256], d = 0.0;\n"
        '    FILE *in = fopen(argv[2], "rb"), *out = fopen(argv[3], "wb");\n    (void)argc;\n'
        "    while (fread(&n, 4, 1, in) == 1 && fread(x, 8, 256, in) == 256 &&\n"
        "           fread(y, 8, 256, in) == 256) {\n        switch (code) {\n" + cases_c +
        "        default: break;\n        }\n        fwrite(&d, 8, 1, out);\n    }\n"
        "    fclose(in);\n    fclose(out);\n    return 0;\n}\n")
    exe = tmp_path / "drv"
    subprocess.run([*cc, "-O2", "-ffp-contract=off", f"-I{RUNTIME}", str(tmp_path / "drv.c"),
                    "-o", str(exe), "-lm"], check=True)
    out = {}
    for i, order in enumerate(C_CALL):
        subprocess.run([str(exe), str(i), str(tmp_path / "cases.bin"), str(tmp_path / "o.bin")],
                       check=True)
        out[order] = np.fromfile(tmp_path / "o.bin")
    return out


@pytest.mark.parametrize("cc", [["gcc", *STRICT], ["clang", *STRICT],
                                ["g++", "-x", "c++", "-std=c++11", "-Wall", "-Wextra", "-Werror"],
                                ["gcc", *STRICT, "-DTCG_SVM_SOFT_FMA"]],
                         ids=["gcc", "clang", "c++11", "soft-fma"])
def test_c_replay_equals_recorded_openblas_and_numpy(tmp_path: Path, cc: list[str]) -> None:
    """tcg_ddot.h under each compiler (and with the emulated fma): the recorded x86-64 results,
    and the NumPy replay for the orders no x86-64 machine can record (arm64, Prescott with y
    8 bytes past a 16-byte boundary), on the same 3,000 cases."""
    if shutil.which(cc[0]) is None:
        pytest.fail(f"{cc[0]} is not installed (CI installs it)")
    cases = golden_cases()
    got = c_replay(tmp_path, cases, cc)
    for kernel, (_, order) in X86.items():
        assert (got[order] == golden_dots(kernel)).all(), kernel
    sub = np.arange(0, 3000, 5)
    x, y, n = (a[sub] for a in cases)
    for order in ("openblas_armv8", "openblas_neoversen1", "prescott_y_odd", "sequential"):
        assert (got[order][sub] == replay(order, x, y, n)).all(), order
    # underflowing products (lanes starting at a signed zero), exact zeros, cancellations:
    # every order, C == NumPy bit for bit, zeros' signs included
    rng = np.random.default_rng(5)
    n = np.concatenate([np.arange(1, 70), rng.integers(1, 257, 131)])
    x = rng.choice([-1.0, 1.0], (200, 256)) * 2.0 ** rng.integers(-560, -500, (200, 256))
    y = rng.choice([-1.0, 1.0], (200, 256)) * 2.0 ** rng.integers(-560, -500, (200, 256))
    big = rng.random((200, 256)) < 0.3
    x[big] = rng.uniform(-1, 1, big.sum())
    y[big] = rng.uniform(-1, 1, big.sum())
    x[rng.random((200, 256)) < 0.1] = 0.0
    x[rng.random((200, 256)) < 0.05] = -0.0
    got = c_replay(tmp_path, (x, y, n), cc)
    for order in C_CALL:
        want = replay(order, x, y, n)
        assert (got[order].view(np.int64) == want.view(np.int64)).all(), order


# ---- arm64 and Prescott's misaligned case: register-level renderings of the source ----------
def fma(a: float, b: float, c: float) -> float:
    v = Fraction(a) * Fraction(b) + Fraction(c)
    return float(v) if v != 0 else (a * b + c if a == 0 or b == 0 else 0.0)


def armv8_dot_s(x: list[float], y: list[float]) -> float:
    """kernel/arm64/dot.S, DOUBLE: KERNEL_F4 (ld1 2 x 2d; fmul; fmul; fadd v0; fadd v0) per 4,
    KERNEL_F4_FINALIZE (faddp), KERNEL_F1 (fmadd) per remaining element."""
    n, d0, v0, i = len(x), 0.0, [0.0, 0.0], 0
    if n >> 2:
        for _ in range(n >> 2):
            v2 = [x[i] * y[i], x[i + 1] * y[i + 1]]
            v3 = [x[i + 2] * y[i + 2], x[i + 3] * y[i + 3]]
            v0 = [v0[0] + v2[0], v0[1] + v2[1]]
            v0 = [v0[0] + v3[0], v0[1] + v3[1]]
            i += 4
        d0 = v0[0] + v0[1]
    for _ in range(n & 3):
        d0 = fma(x[i], y[i], d0)
        i += 1
    return d0


def asimd_dot(x: list[float], y: list[float]) -> float:
    """kernel/arm64/dot_kernel_asimd.c, DOUBLE: KERNEL_F (2 x 8 fmla v0..v7.2d over 32
    elements), KERNEL_F_FINALIZE (fadd v0+v1, v2+v3, v4+v5, v6+v7, v0+v2, v4+v6, v0+v4;
    faddp), KERNEL_F1 (fmadd) per remaining element."""
    n, d0, i = len(x), 0.0, 0
    v = [[0.0, 0.0] for _ in range(8)]

    def add(a: int, b: int) -> None:
        v[a] = [v[a][0] + v[b][0], v[a][1] + v[b][1]]
    if n >> 5:
        for _ in range(n >> 5):
            for _half in range(2):
                for r in range(8):
                    v[r] = [fma(x[i], y[i], v[r][0]), fma(x[i + 1], y[i + 1], v[r][1])]
                    i += 2
        for a, b in ((0, 1), (2, 3), (4, 5), (6, 7), (0, 2), (4, 6), (0, 4)):
            add(a, b)
        d0 = v[0][0] + v[0][1]
    for _ in range(n & 31):
        d0 = fma(x[i], y[i], d0)
        i += 1
    return d0


def sse2_dot_y_odd(x: list[float], y: list[float]) -> float:
    """kernel/x86_64/dot_sse2.S when Y is 8 bytes past a 16-byte boundary: movsd/mulsd of the
    first pair into xmm0 (high lane 0), then the aligned loop (.L11/.L12: 16 per iteration into
    xmm0..xmm3 in pairs), .L14-.L17 (8, 4, 2, 1 remaining), .L999 (addpd, haddpd)."""
    n = len(x)
    r = [[0.0, 0.0] for _ in range(4)]
    if n == 0:
        return 0.0
    r[0] = [x[0] * y[0], 0.0]
    i, m = 1, n - 1

    def mul_add(reg: int) -> None:
        nonlocal i
        r[reg] = [r[reg][0] + x[i] * y[i], r[reg][1] + x[i + 1] * y[i + 1]]
        i += 2
    for _ in range(m >> 4):
        for reg in (0, 1, 2, 3, 0, 1, 2, 3):
            mul_add(reg)
    for w, regs in ((8, (0, 1, 2, 3)), (4, (0, 1)), (2, (0,))):
        if m & w:
            for reg in regs:
                mul_add(reg)
    if m & 1:
        r[0] = [r[0][0] + x[i] * y[i], r[0][1]]
    a = [r[0][0] + r[1][0], r[0][1] + r[1][1]]
    b = [r[2][0] + r[3][0], r[2][1] + r[3][1]]
    return (a[0] + b[0]) + (a[1] + b[1])


def test_unrecorded_replays_equal_the_source_loops() -> None:
    """Crafted vectors (cancellations over ~100 binades, every length to 130 and round
    block sizes): the NumPy lane replays equal the register-level renderings above (the C
    replays equal the NumPy ones: test_c_replay_equals_recorded_openblas_and_numpy)."""
    rng = np.random.default_rng(7)
    lengths = list(range(1, 131)) + [159, 160, 161, 192, 255, 256]
    models = {"openblas_armv8": armv8_dot_s, "openblas_neoversen1": asimd_dot,
              "prescott_y_odd": sse2_dot_y_odd}
    for n in lengths:
        x = rng.uniform(-1, 1, (4, 256)) * 2.0 ** rng.integers(-50, 50, (4, 256))
        y = rng.uniform(-1, 1, (4, 256)) * 2.0 ** rng.integers(-50, 50, (4, 256))
        x[:, 1] = -x[:, 0] * y[:, 0] / y[:, 1]  # a cancellation between the first lanes
        for order, model in models.items():
            got = replay(order, x, y, np.full(4, n))
            want = [model(x[k, :n].tolist(), y[k, :n].tolist()) for k in range(4)]
            assert got.tolist() == want, (order, n)
    # the orders really differ from each other (else the test proves nothing)
    x = rng.uniform(-1, 1, (200, 100)) * 2.0 ** rng.integers(-30, 30, (200, 100))
    outs = {o: dd.ddot(x, x[::-1], o) for o in dd.DOT_ORDERS}
    for a in dd.DOT_ORDERS:
        for b in dd.DOT_ORDERS:
            assert a == b or (outs[a] != outs[b]).any(), (a, b)


# ---- live: the library itself, under each kernel this CPU runs and unforced ------------------
LIVE = [*runnable_kernels(), "unset"]


@pytest.mark.slow
@pytest.mark.parametrize("kernel", LIVE)
def test_live_blas_and_svcs_on_nsl_kdd(kernel: str) -> None:
    """A subprocess under OPENBLAS_CORETYPE=kernel (or none): the probe names the kernel's
    order, the live ddot equals its replay, and an rbf and a linear SVC (500 KDDTrain+ rows)
    compile and predict as sklearn on all of KDDTest+ (decision_function too), the replayed
    double decision values equal sklearn's on the first 2,000 rows."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), str(REPO / "tests"),
                                         env.get("PYTHONPATH", "")])
    env["TINYCODEGEN_BLAS_GOLDEN"] = str(golden_dir())
    expected = ""
    if kernel != "unset":
        env["OPENBLAS_CORETYPE"] = kernel
        expected = X86[kernel][1]
    run = subprocess.run([sys.executable, str(REPO / "tests" / "blas_live.py"), expected],
                         env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    if kernel != "unset":
        assert out["blas"].endswith(f"({X86[kernel][0]})"), out
        assert out["order"] == expected and out["exact"], out
    if out["exact"]:
        assert out["ddot_mismatches"] == 0, out
    for kern, r in out["svc"].items():
        assert r["rows"] == 22_544, (kern, r)
        if out["exact"]:
            assert r["guarantee"] == "exact", (kern, r)
            assert r["mismatches"] == 0 and r["dec64_mismatches"] == 0, (kern, r)
            assert r["dec32_mismatches"] == 0, (kern, r)
        else:
            assert r["guarantee"] == "band", (kern, r)
    for kind, r in out["hybrid"].items():  # Voting / Stacking with SVC members, calibrated
        assert r["rows"] == 22_544, (kind, r)
        if out["exact"]:
            assert r["mismatches"] == 0 and r["proba_mismatches"] in (0, None), (kind, r)


# ---- a BLAS that matches no replay: sequential order, guarantee "band", one warning ----------
def order_sensitive_svc(width: int = 33, rows: int = 3000) -> tuple[SVC, np.ndarray]:
    """A linear SVC whose first support vector holds +-2^52 and small values: a sum order that
    splits the +-2^52 terms into different lanes rounds the small ones away, so its decision
    values differ from a sequential sum by O(1); rho sits at the median decision value."""
    rng = np.random.default_rng(11)
    model = SVC(kernel="linear").fit(rng.uniform(0, 1, (2, width)), [0, 1])
    sv = model.support_vectors_
    sv[0, :2] = 2.0**52, -(2.0**52)
    sv[0, 2:] = rng.uniform(0, 1, width - 2)
    sv[1] = 0.0
    X = rng.uniform(0, 1, (rows, width)).astype(np.float32)
    X[:, :2] = 1.0
    dec = model.decision_function(X.astype(np.float64))  # -(sum coef k + _intercept_)
    model._intercept_[0] += float(np.median(dec))
    model.intercept_[0] = -model._intercept_[0]
    return model, X


def test_unknown_blas_compiles_warns_once_and_check_counts(monkeypatch) -> None:
    model, X = order_sensitive_svc()
    monkeypatch.setenv(svm_loader.ENV_UNKNOWN, "1")
    monkeypatch.setattr(svm_loader, "_warned", [])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiled = tinycodegen.compile(model, name="band_svc")
        again = tinycodegen.compile(SVC(kernel="rbf").fit(X[:50], np.arange(50) % 2), name="b2")
    blas = [w for w in caught if issubclass(w.category, BlasOrderWarning)]
    assert len(blas) == 1, [str(w.message) for w in caught]
    assert svm_loader.blas_name() in str(blas[0].message) and "band" in str(blas[0].message)
    for c in (compiled, again):
        assert c.source.guarantee == "band" and c.ir.dot_order == dd.FALLBACK_ORDER
        head = c.source.files[c.source.h_file]
        assert "NOT bit-exact" in head and 'guarantee "band"' in head
    report = check(compiled, X, proba=False)
    assert report.rows == len(X) and report.reference_mismatches == 0  # C == its reference
    # sklearn sums in the host's own order: check counts exactly the rows whose vote the two
    # orders split
    monkeypatch.delenv(svm_loader.ENV_UNKNOWN)
    host = svm_loader.host_dot(X.shape[1])
    assert host.exact
    ir, z = compiled.ir, X.astype(np.float64)
    seq = ir.exact_decision_values(z)[:, 0] > 0
    k = ex.kernel_values(z, ir.sv, "linear", ir.gamma, ir.coef0, ir.degree, host.order)
    native = ex.pair_sums(k, *ir.pair_terms, ir.rho)[:, 0] > 0
    assert (np.where(native, 0, 1) == model.predict(z)).all()  # the host replay is sklearn's
    assert report.mismatches == int((seq != native).sum())
    assert report.mismatches > 0 or host.order == "sequential", report.to_text()


def test_unknown_blas_cli_compile_exits_0_with_one_warning(tmp_path: Path) -> None:
    import joblib

    model, _ = order_sensitive_svc()
    joblib.dump(model, tmp_path / "m.joblib")
    env = dict(os.environ, **{svm_loader.ENV_UNKNOWN: "1"})
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")])
    run = subprocess.run([sys.executable, "-m", "tinycodegen", "compile",
                          str(tmp_path / "m.joblib"), "-o", str(tmp_path / "out"), "--name", "m"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stderr.count("BlasOrderWarning") == 1, run.stderr
    assert "NOT bit-exact" in (tmp_path / "out" / "m.h").read_text()
