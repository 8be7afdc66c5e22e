"""Scalers folded into tree thresholds: the folded threshold is exact against brute force
(hypothesis over op chains and float32 inputs), and numeric-only Pipelines before trees compile
to a walk over the raw input with no transform code (C == sklearn at and around every folded
threshold, on overflow limits and NaN / inf rows)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    MaxAbsScaler,
    MinMaxScaler,
    StandardScaler,
)
from sklearn.tree import DecisionTreeClassifier

import tinycodegen
from tinycodegen.check import check
from tinycodegen.core.preprocess import Opcode
from tinycodegen.families.pipeline.fold import FLT_MAX, accepts, fold_thresholds, g, interval
from tinycodegen.families.pipeline.ir import PipelineTreeIR

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

SPECIAL = np.array([0.0, -0.0, FLT_MAX, -FLT_MAX, 1e-45, -1e-45, 1e-38], dtype=np.float32)


# ---- folding, in NumPy, against brute force ----------------------------------------------
@st.composite
def chains(draw):
    ops = []
    for _ in range(draw(st.integers(1, 3))):
        ops.append((Opcode.CHECK, 0.0, 0.0))
        kind = draw(st.sampled_from(["minmax", "standard", "maxabs", "neg"]))
        a = draw(st.floats(1e-30, 1e30)) * draw(st.sampled_from([1.0, 1e-8, 1e8]))
        b = draw(st.floats(-1e6, 1e6))
        if kind == "minmax":
            ops += [(Opcode.MUL, a, 0.0), (Opcode.ADD, b, 0.0)]
            if draw(st.booleans()):
                ops.append((Opcode.CLIP, min(b, b + 1.0), b + 1.0))
        elif kind == "standard":
            ops += [(Opcode.SUB, b, 0.0), (Opcode.DIV, a, 0.0)]
        elif kind == "maxabs":
            ops += [(Opcode.DIV, a, 0.0), (Opcode.CLIP, -1.0, 1.0)]
        else:  # a hand-edited negative scale: g decreases, children get swapped
            ops += [(Opcode.MUL, -a, 0.0), (Opcode.ADD, b, 0.0)]
    return tuple(ops)


@settings(max_examples=100, deadline=None)
@given(ops=chains(), x0=st.floats(width=32, allow_nan=False, allow_infinity=False),
       pick=st.integers(0, 3))
def test_folded_threshold_is_exact(ops, x0: float, pick: int) -> None:
    found = interval(ops)
    assume(found is not None)  # only a NaN-making chain (x / 0, inf * 0) is not foldable
    sign, lo, hi = found
    img = g(ops, np.array([x0, lo, hi, 0.0], dtype=np.float32))
    assume(np.isfinite(img[pick]))
    t = np.array([img[pick]], dtype=np.float32)
    r, swap = fold_thresholds(ops, sign, t, lo, hi)
    near = np.concatenate([
        r[0] + np.zeros(1, np.float32), *(_walk(v, 200, d) for v in (r[0], lo, hi, x0)
                                          for d in (np.inf, -np.inf)), SPECIAL,
    ]).astype(np.float32)
    acc = accepts(ops, near)
    assert np.array_equal(acc, (near >= lo) & (near <= hi))  # accepted x form [lo, hi]
    want = g(ops, near[acc]) <= t[0]
    got = (near[acc] <= r[0]) != swap[0]
    assert np.array_equal(want, got), (ops, t, r, swap)


def _walk(x: np.float32, n: int, to: float) -> np.ndarray:
    x = np.float32(x)
    out = np.empty(n, dtype=np.float32)
    for i in range(n):
        x = np.nextafter(x, np.float32(to))
        out[i] = x
    return out[np.isfinite(out)]


# ---- random pipelines, C against sklearn -------------------------------------------------

@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), stack=st.integers(1, 2),
       edit=st.sampled_from(["none", "negative", "always"]))
def test_scalers_fold_into_thresholds_with_no_transform_code(seed: int, stack: int,
                                                             edit: str) -> None:
    """Numeric-only pipelines: the C walks the raw input (nothing computed); at most a range
    check where float32(z) would overflow (sklearn rejects such input)."""
    rng = np.random.default_rng(seed)
    X = (rng.normal(size=(300, 3)) * [1e-3, 1.0, 1e6] + [1e4, 0.0, -3.0]).astype(np.float32)
    y = ((X[:, 0] - 1e4) * 1e3 + X[:, 1] > 0).astype(int)
    pool = [MinMaxScaler(clip=True), StandardScaler(), MaxAbsScaler(), MinMaxScaler((-2, 5))]
    steps = [(f"s{i}", pool[int(rng.integers(len(pool)))]) for i in range(stack)]
    model = Pipeline([*steps, ("dt", DecisionTreeClassifier(max_depth=6, random_state=seed))])
    model.fit(X.astype(np.float64), y)
    if edit == "negative":  # hand-edited decreasing scale: folded splits swap their children
        model.steps[0] = ("neg", StandardScaler().fit(X))
        model.steps[0][1].scale_ = -model.steps[0][1].scale_
    elif edit == "always":  # thresholds no / every finite input passes: constant splits
        thr = model[-1].tree_.threshold
        thr[thr != -2] = rng.choice([-1e30, 1e30], size=int((thr != -2).sum()))
    compiled = tinycodegen.compile(model, name="folded")
    ir = compiled.ir
    rows = [X[:50]]
    if isinstance(ir, PipelineTreeIR):  # scale > 1: float32(z) overflows for huge raw x
        assert ir.prep.n_outputs == 0 and ir.n_raw == 3 and ir.folded == 3 and ir.bounded
        assert "tcg_pp_is_inf(v)" not in compiled.source.files["folded.c"]  # no arithmetic
        for f, lim in [(k, v) for k in range(3) for v in (ir.raw_lo[k], ir.raw_hi[k])]:
            for v in (lim, np.nextafter(lim, np.float32(np.inf)),
                      np.nextafter(lim, np.float32(-np.inf))):
                r = X[f].copy()
                r[ir.raw_src[f]] = v
                rows.append(r[None])
        ir = ir.core
    else:
        assert "_input(" not in compiled.source.files["folded.c"]
    for node in range(ir.n_nodes):
        t, f = ir.threshold[node], ir.feature[node]
        for v in (t, np.nextafter(t, np.float32(np.inf)), np.nextafter(t, np.float32(-np.inf))):
            r = X[node % 50].copy()
            r[f] = v
            rows.append(r[None])
    bad = np.tile(X[:1], (6, 1))
    bad[[0, 1, 2, 3, 4, 5], [0, 1, 2, 0, 1, 2]] = [np.nan, np.inf, -np.inf, FLT_MAX, -FLT_MAX, 0]
    Xp = np.concatenate([*rows, bad]).astype(np.float32)
    report = check(compiled, Xp)
    assert report.mismatches == 0 and report.proba_mismatches == 0, report.to_text()
    assert report.reference_mismatches == 0
