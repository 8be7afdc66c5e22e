"""The size layout's compact tables: 16-bit threshold keys where the int32 key's low half is 0,
leaf count totals with class 0's count recovered from the fixed-point fraction (and the leaves
where that recovery misses spelled out), the float64 replay in tcg_f64.h's integer routines.
Parity on thresholds, their float neighbours, -0.0, +-inf and NaN."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

import tinycodegen
from tinycodegen.build import build
from tinycodegen.check import check
from tinycodegen.families.registry import emit
from tinycodegen.families.trees import emit_packed
from tinycodegen.families.trees.emit_packed import pack
from tinycodegen.families.trees.vote import _qtot_fixes
from tinycodegen.lower import load as load_ir

F32 = np.float32


def _edge_rows(ir, rng: np.random.Generator, n: int) -> np.ndarray:
    """Rows holding each threshold, its float neighbours, -0.0, +0.0, +-inf and NaN."""
    thr = np.asarray(ir.threshold, dtype=F32)
    thr = thr[np.abs(thr) < F32(1e30)]
    vals = np.concatenate([thr, np.nextafter(thr, F32(np.inf)), np.nextafter(thr, -F32(np.inf)),
                           np.array([-0.0, 0.0, np.inf, -np.inf, np.nan], dtype=F32)])
    X = rng.normal(size=(n, ir.meta.n_features)).astype(F32)
    picks = rng.integers(0, len(vals), size=X.shape)
    mask = rng.random(X.shape) < 0.6
    X[mask] = vals[picks[mask]]
    return X


def test_mixed_16_and_32_bit_keys_exact_on_edges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(emit_packed, "MIN_SHORT", 1)  # split keys even for this small forest
    rng = np.random.default_rng(5)
    X = rng.normal(size=(2000, 5)).astype(F32)
    X[:, :2] = np.rint(X[:, :2] * 4)  # integer features: thresholds k + 0.5, 16-bit keys
    X[rng.random(X.shape) < 0.03] = np.nan  # NaN seen in training: nodes send it left
    y = ((np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, 2]) + rng.normal(size=2000)) > 0)
    model = RandomForestClassifier(8, max_depth=7, random_state=0, n_jobs=1).fit(X, y)
    ir = load_ir(model)
    p = pack(ir, keys16=True)
    k = p.pair_key.astype(np.int64)
    assert 0 < p.n_long < len(k) and (k < 0).any()
    assert (k[:p.n_long] & 0xFFFF != 0).all() and (k[p.n_long:] & 0xFFFF == 0).all()
    compiled = tinycodegen.compile(model, name="mix16", optimize="size")
    src = compiled.source.files["mix16.c"]
    assert "mix16_khi" in src and "mix16_klo" in src
    report = check(compiled, _edge_rows(ir, rng, 3000))
    assert report.mismatches == 0 and report.proba_mismatches == 0, report.to_text()


def test_leaf_totals_recover_counts_with_listed_misses() -> None:
    """Two trees whose leaves have totals >= 2**15: where round(q * n / 2**15) misses class 0's
    count, the C lists the leaf; predict_proba (the float64 replay) stays bitwise sklearn's."""
    X = np.array([[0.0], [1.0], [2.0]], dtype=F32)
    base = load_ir(DecisionTreeClassifier().fit(X, [0, 1, 0]))
    counts = [(53447, 59522), (58891, 59522), (33333, 40000)]  # the first two miss
    leaves = np.array([[c / n, (n - c) / n] for c, n in counts])
    ir = dataclasses.replace(
        base, feature=np.zeros(2, np.int32), threshold=np.array([0.5, 1.5], dtype=F32),
        left=np.array([~0, ~1], np.int32), right=np.array([1, ~2], np.int32),
        nan_left=np.zeros(2, bool), roots=np.array([0, 1], np.int32), leaf_values=leaves,
        child_weight=None)
    assert ir.n_trees == 2 and ir.fixed_slack > 0
    assert _qtot_fixes(ir, ir.leaf_counts) == {0: 53447, 1: 58891}
    source = emit(ir, "fix2", "size")
    assert "fix2_leaf_n" in source.files["fix2.c"] and "fix2_leaf_c" not in source.files["fix2.c"]
    native = build(source)
    x = np.array([-1.0, 0.0, 0.5, np.nextafter(F32(0.5), F32(2)), 1.0, 1.5, 1.6, 3.0, -0.0,
                  np.inf, -np.inf, np.nan], dtype=F32)[:, None]
    ref = ir.reference(x)
    assert (native.predict_index(x) == ref.predict).all()
    assert (native.predict_proba(x) == ref.proba.astype(F32)).all()
