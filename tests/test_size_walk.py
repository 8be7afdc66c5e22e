"""The size layout's fast walk (NAME_sum) with split keys: the high halves of the int32 keys
decide, NAME_tie only when they are equal (inputs that share a long key's high half: the key, its
neighbours, the ends of its 65536-wide block, negative keys); and its input check, a float sum on
cores with an FPU (a finite sum that overflows, inf + -inf, NaN). Host, Cortex-M4F (Thumb-2 walk,
FPU scan) and Cortex-M0+ (ARMv6-M walk, integer scan) agree with sklearn row for row."""

from __future__ import annotations

import dataclasses
from pathlib import Path

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
from tinycodegen.lower import load as load_ir

F32 = np.float32


def _forest(monkeypatch: pytest.MonkeyPatch, raw: bool = False
            ) -> tuple[RandomForestClassifier, np.ndarray]:
    """A forest with split keys (long and short) and its long keys: ordered keys, negative and
    positive, or (``raw``: features >= 0) raw bits, which the walk compares directly."""
    monkeypatch.setattr(emit_packed, "MIN_SHORT", 1)
    rng = np.random.default_rng(11)
    X = rng.normal(size=(1500, 4)).astype(F32)
    if raw:
        X = np.abs(X)
    X[:, 0] = np.rint(X[:, 0] * 3)  # integer feature: thresholds k + 0.5, short keys
    y = (X[:, 0] + X[:, 1] - X[:, 2] * X[:, 3] + rng.normal(size=1500) > 0).astype(int)
    model = RandomForestClassifier(6, max_depth=6, random_state=0, n_jobs=1).fit(X, y)
    ir = load_ir(model)
    p = pack(ir, keys16=True)
    k = p.pair_key.astype(np.int64)
    assert 0 < p.n_long < len(k) and (k[:p.n_long] > 0).any() and ir.raw_bits_ok == raw
    assert raw or (k[:p.n_long] < 0).any()
    return model, p.pair_key[:p.n_long]


def _tie_rows(model: RandomForestClassifier, keys: np.ndarray, n: int) -> np.ndarray:
    """Rows whose values share a long key's high half (keys of the walk: the raw bits, or
    tcg_key of the bits, which is its own inverse), and negative values."""
    ir = load_ir(model)
    rng = np.random.default_rng(3)
    hi = keys.astype(np.int64) & ~0xFFFF
    cand = np.concatenate([keys - 1, keys, keys + 1, hi, hi + 0xFFFF, hi - 1, hi + 0x10000])
    if not ir.raw_bits_ok:
        cand = np.where(cand < 0, cand ^ 0x7FFFFFFF, cand)
    cand = (cand & 0xFFFFFFFF).astype(np.uint32)
    vals = cand.view(F32)
    vals = vals[np.isfinite(vals)]
    vals = np.concatenate([vals, -vals[:50], np.array([-0.0, 0.0], dtype=F32)])
    X = rng.normal(size=(n, ir.meta.n_features)).astype(F32)
    mask = rng.random(X.shape) < 0.7
    X[mask] = vals[rng.integers(0, len(vals), size=int(mask.sum()))]
    return X


@pytest.mark.parametrize("raw", [False, True])
def test_tie_path_exact_on_host(raw: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    model, keys = _forest(monkeypatch, raw)
    compiled = tinycodegen.compile(model, name="tie", optimize="size")
    src = compiled.source.files["tie.c"]
    assert "tie_tie(a, q)" in src and "tie_scan(" in src and "vadd.f32" in src
    report = check(compiled, _tie_rows(model, keys, 4000))
    assert report.rows == 4000
    assert report.mismatches == 0 and report.proba_mismatches == 0, report.to_text()


def _special_rows(n_features: int, rng: np.random.Generator) -> np.ndarray:
    rows = rng.normal(size=(24, n_features)).astype(F32)
    specials = np.array([np.inf, -np.inf, np.nan, 3.4028235e38, -3.4028235e38, -0.0, 1e-45],
                        dtype=F32)
    for i in range(14):
        rows[i, i % n_features] = specials[i % len(specials)]
    rows[14] = F32(3.4028235e38)  # a finite sum that overflows: not rejected
    rows[15, :2] = (np.inf, -np.inf)  # inf + -inf: NaN sum, rejected
    rows[16] = F32(-3.4028235e38)
    rows[17, -1] = np.nan
    return rows


def test_size_input_check_rejects_inf_only(monkeypatch: pytest.MonkeyPatch) -> None:
    model, _ = _forest(monkeypatch, raw=True)
    compiled = tinycodegen.compile(model, name="scn", optimize="size")
    rows = _special_rows(4, np.random.default_rng(2))
    report = check(compiled, rows)
    assert report.mismatches == 0 and report.proba_mismatches == 0, report.to_text()
    got = compiled.predict_index(rows)
    assert ((got == -1) == np.isinf(rows).any(axis=1)).all()
    assert got[14] >= 0 and got[16] >= 0 and got[15] == -1


@pytest.mark.parametrize("target", ["cortex-m4f", "cortex-m0plus"])
@pytest.mark.parametrize("raw", [False, True])
def test_size_walk_on_the_emulator(target: str, raw: bool, monkeypatch: pytest.MonkeyPatch,
                                   tmp_path: Path) -> None:
    """Both ARM walks (Thumb-2 unrolled 4, ARMv6-M unrolled 2) and both input checks agree with
    the host, which agrees with sklearn."""
    from tinycodegen.targets import measure

    model, keys = _forest(monkeypatch, raw)
    compiled = tinycodegen.compile(model, name="emu", optimize="size")
    compiled.write(tmp_path)
    rows = np.concatenate([_tie_rows(model, keys, 150),
                           _special_rows(4, np.random.default_rng(4))])
    report = check(compiled, rows)
    assert report.mismatches == 0 and report.proba_mismatches == 0, report.to_text()
    host = compiled.predict_index(rows)
    m = measure(tmp_path, "emu", rows, target)
    assert m.rows == len(rows)
    assert np.array_equal(np.asarray(m.predictions), host)


@pytest.mark.parametrize("n_features", [41, 17, 3, 100])
def test_size_input_check_on_the_emulator(n_features: int, tmp_path: Path) -> None:
    """The Cortex-M4F input check (a first load-multiple, a loop of them, a remainder) rejects
    +-inf and routes NaN wherever they sit, exactly as the host C does."""
    from tinycodegen.targets import measure

    rng = np.random.default_rng(n_features)
    X = np.abs(rng.normal(size=(400, n_features))).astype(F32)  # raw bits: predict scans x
    X[rng.random(X.shape) < 0.05] = np.nan
    model = RandomForestClassifier(5, max_depth=5, random_state=0, n_jobs=1).fit(
        X, (np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, -1]) > 0).astype(int))
    compiled = tinycodegen.compile(model, name="scn41", optimize="size")
    assert "vldmia" in compiled.source.files["scn41.c"] and compiled.ir.raw_bits_ok
    compiled.write(tmp_path)
    rows = rng.normal(size=(2 * n_features + 8, n_features)).astype(F32)
    for i in range(n_features):  # inf, then NaN, at every position
        rows[i, i] = np.inf if i % 2 else -np.inf
        rows[n_features + i, i] = np.nan
    rows[-8:] = _special_rows(n_features, rng)[10:18]
    report = check(compiled, rows)
    assert report.mismatches == 0 and report.proba_mismatches == 0, report.to_text()
    host = compiled.predict_index(rows)
    assert (host[:n_features] == -1).all() and (host[n_features:2 * n_features] >= 0).all()
    m = measure(tmp_path, "scn41", rows, "cortex-m4f")
    assert np.array_equal(np.asarray(m.predictions), host)
    m = measure(tmp_path, "scn41", rows, "cortex-m4f", function="predict_proba")
    assert np.array_equal(np.asarray(m.predictions), compiled.predict_proba(rows))


@pytest.mark.parametrize("leaf_root", [False, True])
def test_sum_loop_with_and_without_a_leaf_root(leaf_root: bool) -> None:
    """NAME_sum tests c on entry only when some tree is a single leaf; both loops are exact."""
    X = np.array([[0.0], [1.0], [2.0]], dtype=F32)
    base = load_ir(DecisionTreeClassifier().fit(X, [0, 1, 0]))
    roots = np.array([0, ~2 if leaf_root else 1], np.int32)
    ir = dataclasses.replace(
        base, feature=np.zeros(2, np.int32), threshold=np.array([0.5, 1.5], dtype=F32),
        left=np.array([~0, ~1], np.int32), right=np.array([~1, ~0], np.int32),
        nan_left=np.zeros(2, bool), roots=roots,
        leaf_values=np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]]), child_weight=None)
    source = emit(ir, "lr2", "size")
    assert ("for (;;)" in source.files["lr2.c"]) != leaf_root
    native = build(source)
    x = np.array([-1.0, 0.0, 0.5, np.nextafter(F32(0.5), F32(2)), 1.0, 1.5, 1.6, 3.0, -0.0,
                  np.inf, np.nan], dtype=F32)[:, None]
    ref = ir.reference(x)
    assert (native.predict_index(x) == ref.predict).all()
    assert (native.predict_proba(x) == ref.proba.astype(F32)).all()
