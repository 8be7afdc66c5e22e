"""Quantized boosted trees (--quantize int8/int16): the C equals the integer reference bit for
bit (predict and predict_proba), routing equals the float model's, the integer raw score stays
within its rounding bound of the float raw score, and `check` reports the float difference."""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest
import xgboost as xgb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

import tinycodegen
from helpers import STRICT
from test_qtrees import probe_rows
from tinycodegen.build import build
from tinycodegen.check import check
from tinycodegen.cli import main
from tinycodegen.core.base import ModelMeta
from tinycodegen.errors import TinycodegenError, UnsupportedModelError
from tinycodegen.families.boosted.ir import BoostedTreesIR
from tinycodegen.families.boosted.qemit import emit_qboosted_table
from tinycodegen.families.boosted.qir import ACC_BOUND, LEAF_MAX, QBoostedTreesIR
from tinycodegen.families.boosted.quantize import leaf_codes, quantize_boosted
from tinycodegen.families.mlp import qnet_ops as ops
from tinycodegen.families.registry import load_ir

LIBS = {
    "xgb": lambda n, k: xgb.XGBClassifier(n_estimators=n, max_depth=3, random_state=0,
                                          n_jobs=1),
    "lgbm": lambda n, k: lgb.LGBMClassifier(n_estimators=n, num_leaves=6, min_child_samples=5,
                                            verbose=-1, random_state=0, n_jobs=1),
    "gb": lambda n, k: GradientBoostingClassifier(
        n_estimators=n, max_depth=3, random_state=0, subsample=0.8,
        loss="exponential" if k == 2 and n % 2 else "log_loss"),
    "hgb": lambda n, k: HistGradientBoostingClassifier(
        max_iter=n, max_depth=3, random_state=0, categorical_features=[0] if n % 2 else None),
}


def assert_reference_exact(q: QBoostedTreesIR, ir: BoostedTreesIR, X: np.ndarray) -> None:
    """C == integer reference (predict, proba bits); same leaves as the float model; integer
    raw score within (n_trees + 1) half-units of the float raw score."""
    native = build(emit_qboosted_table(q, "qb"))
    ref = q.reference(X)
    np.testing.assert_array_equal(native.predict_index(X), ref.predict)
    np.testing.assert_array_equal(native.predict_proba(X).view(np.uint32),
                                  ref.proba.astype(np.float32).view(np.uint32))
    bad = q.rejected(X)
    np.testing.assert_array_equal(bad, ir.rejected(X))
    assert (ref.predict[bad] == -1).all() and (ref.predict[~bad] >= 0).all()
    ok = ~bad
    np.testing.assert_array_equal(q.apply(X[ok]), ir.apply(X[ok]))
    raw_f = ir.raw(X[ok]).astype(np.float64)
    raw_q = np.ldexp(q.raw(X[ok]).astype(np.float64), -q.shift)
    # each rounding (the base, every leaf reached: half of its 2**e step) in units of 2**-s
    half = np.full(raw_f.shape, 0.5)
    leaves = q.apply(X[ok])
    for t in range(q.n_trees):
        half[:, q.tree_output[t]] += np.ldexp(0.5, q.leaf_exp[leaves[:, t]])
    bound = np.ldexp(half, -q.shift) + 1e-5 * (1 + np.abs(raw_f))
    assert (np.abs(raw_q - raw_f) <= bound).all()
    # predict agrees with the float model wherever the float margin exceeds twice the bound
    fr = ir.reference(X[ok])
    if q.binary:
        sure = np.abs(raw_f[:, 0]) > bound[:, 0]
    else:
        top = np.sort(raw_f, axis=1)
        sure = top[:, -1] - top[:, -2] > 2 * bound.max(axis=1)
    np.testing.assert_array_equal(ref.predict[ok][sure], fr.predict[sure])


@st.composite
def boosted(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    nf, k = draw(st.integers(1, 4)), draw(st.sampled_from([2, 2, 3]))
    X = rng.normal(size=(160, nf)) * draw(st.sampled_from([1e-3, 1.0, 1e6]))
    if draw(st.booleans()):
        X = np.round(X * 2) / 2  # few distinct values: thresholds repeat across trees
    lib = draw(st.sampled_from(sorted(LIBS)))
    n = draw(st.integers(1, 8))
    if lib == "hgb" and n % 2:
        X[:, 0] = rng.integers(0, 6, len(X))  # a categorical column (native bitset splits)
    if lib != "gb" and draw(st.booleans()):
        X[rng.random(X.shape) < 0.15] = np.nan  # learned default directions
    y = rng.integers(0, k, size=len(X))
    y[: k] = np.arange(k)
    model = LIBS[lib](n, k)
    with warnings.catch_warnings(), threadpool_limits(1):  # OpenMP spinning on a busy machine
        warnings.simplefilter("ignore")
        model.fit(X.astype(np.float32), y)
    return model, draw(st.sampled_from(["int8", "int16"])), rng


@settings(max_examples=16, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=boosted())
def test_random_library_models_bit_exact(case) -> None:
    model, mode, rng = case
    ir = load_ir(model)
    q = quantize_boosted(ir, mode)
    X = probe_rows(q, rng, 400)
    X[3:6] = np.float32(np.nan)  # all-NaN rows: default directions
    assert_reference_exact(q, ir, X)


def random_ir(rng: np.random.Generator, nf: int, k: int, n_trees: int, policy: str,
              leaf_scale: float, base_scale: float, cat_rule: str | None = None
              ) -> BoostedTreesIR:
    """A random boosted IR (depth <= 3, stumps and one-leaf trees included); with ``cat_rule``,
    splits on feature 0 are categorical (3 random sets over 64 categories)."""
    feat: list[int] = []
    thr: list[float] = []
    kids: list[list[int]] = []
    nanl: list[bool] = []
    leaves: list[float] = []
    pool = np.array([-1.5, -0.0, 0.0, 0.25, 1.0, 3e38, -3e38, 1e-40], np.float32)

    def grow(depth: int) -> int:
        if depth == 0 or rng.random() < 0.25:
            leaves.append(float(rng.normal() * leaf_scale))
            return ~(len(leaves) - 1)
        i = len(feat)
        feat.append(int(rng.integers(nf)))
        thr.append(float(rng.choice(pool)))
        nanl.append(bool(rng.random() < 0.5))
        kids.append([0, 0])
        kids[i][0] = grow(depth - 1)
        kids[i][1] = grow(depth - 1)
        return i

    n_out = 1 if k == 2 else k
    roots = [grow(3) for _ in range(n_trees)]
    f = np.array(feat, np.int32)
    sets = np.where(f == 0, rng.integers(0, 3, len(f)), -1).astype(np.int32)
    cat_set = sets if cat_rule else None
    cat_bits = rng.integers(0, 2**32, (3, 2), dtype=np.uint32) if cat_rule else None
    meta = ModelMeta(n_features=nf, classes=np.arange(k), estimator="Synthetic",
                     feature_names=None, nan_policy=policy)
    return BoostedTreesIR(
        meta=meta, feature=np.array(feat, np.int32), threshold=np.array(thr, np.float32),
        left=np.array([c[0] for c in kids], np.int32),
        right=np.array([c[1] for c in kids], np.int32), nan_left=np.array(nanl, bool),
        roots=np.array(roots, np.int32), leaf_value=np.array(leaves, np.float64),
        tree_output=(np.arange(n_trees) % n_out).astype(np.int32),
        base=rng.normal(size=n_out) * base_scale, accumulate="float64",
        link="sk_binary" if n_out == 1 else "sk_softmax",
        predict_rule="raw_ge_zero" if n_out == 1 else "raw_argmax", cat_set=cat_set,
        cat_bits=cat_bits, cat_rule=cat_rule or "hgb")


@pytest.mark.parametrize("policy", ["reject", "route", "accept"])
@pytest.mark.parametrize("scales", [(1e-30, 1e-30), (0.1, 3.0), (1e6, 1e9)])
def test_random_irs_policies_and_scales(policy: str, scales: tuple[float, float]) -> None:
    rng = np.random.default_rng(len(policy) + int(np.log10(scales[0]) + 40))
    for k, mode in ((2, "int8"), (4, "int16")):
        ir = random_ir(rng, 3, k, 9, policy, *scales)
        q = quantize_boosted(ir, mode)
        assert (q.acc_bound() <= ACC_BOUND).all()
        X = probe_rows(q, rng, 300)
        assert_reference_exact(q, ir, X)
        assert q.predict_ge == (k == 2)


@pytest.mark.parametrize("mode", ["int8", "int16"])
def test_leaf_codes_keep_relative_precision(mode: str) -> None:
    """Leaves from 1e-3 to 1e4 in one model: every leaf is m * 2**e with the smallest e that
    fits the mantissa, so its error is at most half a step of 2**e, i.e. relative 1/(2 m)."""
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(size=400) * 10.0 ** rng.integers(-3, 5, 400), [0.0, -0.0]])
    mant = LEAF_MAX[mode]
    q, e = leaf_codes(np.ldexp(x, 20), mant)
    m = q >> e
    assert (np.abs(m) <= mant).all() and (e >= 0).all() and ((m << e) == q).all()
    assert (np.abs(q - np.ldexp(x, 20)) <= np.ldexp(0.5, e)).all()
    smaller = ops.round_half_up(np.ldexp(np.ldexp(x, 20), -(e - 1)))
    assert ((e == 0) | (np.abs(smaller) > mant)).all()  # e is the smallest that fits
    big = np.abs(x) * 2.0**20 > mant
    assert (np.abs(q - np.ldexp(x, 20))[big] <= np.abs(np.ldexp(x, 20))[big] / mant).all()


def test_accumulator_bound_with_many_large_trees() -> None:
    """6,000 trees of +-1 leaves after a base of -1e5: the leaf exponents would allow 2**-29
    units, but |base| + the per-tree maxima must stay <= 2**30 - 1, so the shift is 13 (14
    would overflow int32 differences); raw at both extremes, C == reference."""
    rng = np.random.default_rng(3)
    n = 6000
    meta = ModelMeta(n_features=1, classes=np.arange(2), estimator="Synthetic",
                     feature_names=None, nan_policy="route")
    ir = BoostedTreesIR(
        meta=meta, feature=np.zeros(n, np.int32), threshold=np.zeros(n, np.float32),
        left=~np.arange(0, 2 * n, 2, dtype=np.int32),
        right=~np.arange(1, 2 * n, 2, dtype=np.int32), nan_left=np.ones(n, bool),
        roots=np.arange(n, dtype=np.int32),
        leaf_value=np.tile([1.0, -1.0], n) * (1 - rng.random(2 * n) * 1e-3),
        tree_output=np.zeros(n, np.int32), base=np.array([-1e5]), accumulate="float64",
        link="sk_binary", predict_rule="raw_ge_zero")
    q = quantize_boosted(ir, "int16")
    assert q.shift == 13 and int(q.acc_bound()[0]) <= ACC_BOUND
    assert (1e5 + 6000 * 0.999) * 2.0**14 > ACC_BOUND  # one more bit would break the bound
    X = np.array([[-1.0], [1.0], [np.nan], [0.0], [np.inf]], np.float32)
    assert_reference_exact(q, ir, X[:4])
    up, down = (int(q.base_q[0] + q.leaf_q[i::2].sum()) for i in (0, 1))
    assert q.raw(X)[:, 0].tolist() == [up, down, up, up, 0]
    assert q.reference(X).predict.tolist() == [0, 0, 0, 0, -1]


def category_probe(q: QBoostedTreesIR, rng: np.random.Generator, n: int) -> np.ndarray:
    """probe_rows, with feature 0 drawn from integers, halves and near-integers around the
    category range (negative, fractional, beyond the table), and +-0, NaN, +-inf."""
    X = probe_rows(q, rng, n)
    grid = np.arange(-3, 70, 0.5, dtype=np.float32)
    pool = np.concatenate([grid, np.nextafter(grid, np.float32(np.inf)),
                           np.nextafter(grid, np.float32(-np.inf)),
                           np.array([-0.0, np.nan, np.inf, -np.inf, 2.0**31, -(2.0**31)],
                                    np.float32)])
    X[: n // 2, 0] = rng.choice(pool, n // 2)
    return X


@pytest.mark.parametrize("rule", ["hgb", "lightgbm"])
@pytest.mark.parametrize("policy", ["route", "accept"])
def test_random_categorical_irs(rule: str, policy: str) -> None:
    rng = np.random.default_rng(7 + len(rule) + len(policy))
    for k, mode in ((2, "int8"), (3, "int16")):
        ir = random_ir(rng, 2, k, 8, policy, 0.5, 1.0, cat_rule=rule)
        assert ir.has_categorical
        q = quantize_boosted(ir, mode)
        assert_reference_exact(q, ir, category_probe(q, rng, 600))


@pytest.mark.parametrize("mode", ["int8", "int16"])
def test_lightgbm_categorical_and_zero_as_missing(mode: str) -> None:
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.integers(0, 40, 600), rng.normal(size=600),
                         rng.integers(0, 3, 600)]).astype(np.float32)
    X[rng.random(600) < 0.1, 0] = np.nan
    y = ((np.nan_to_num(X[:, 0]) % 3 == 0) ^ (X[:, 1] > 0)).astype(int)
    cat = lgb.LGBMClassifier(n_estimators=10, verbose=-1, min_child_samples=5).fit(
        X, y, categorical_feature=[0])
    zero = lgb.LGBMClassifier(n_estimators=10, verbose=-1, min_child_samples=5,
                              zero_as_missing=True).fit(X, y)
    near_zero = np.array([0, -0.0, 1e-35, -1e-35, 1e-36, 2e-35, -2e-35, 1e-45, -1e-45],
                         np.float32)
    for model, what in ((cat, "has_categorical"), (zero, "missing_zero")):
        ir = load_ir(model)
        assert np.any(getattr(ir, what))
        q = quantize_boosted(ir, mode)
        X = category_probe(q, rng, 2000)
        X[-300:, 1] = rng.choice(np.concatenate([near_zero, np.nextafter(
            near_zero, np.float32(np.inf)), np.nextafter(near_zero, np.float32(-np.inf))]), 300)
        assert_reference_exact(q, ir, X)


@pytest.mark.parametrize("mode", ["int8", "int16"])
def test_hgb_categorical_nan_and_inf_rows(mode: str) -> None:
    """HGB with a native categorical column and NaN: category bitsets, unknown and negative
    categories, NaN by the learned direction, +-inf rejected in the categorical column only."""
    rng = np.random.default_rng(2)
    X = np.column_stack([rng.integers(0, 12, 800), rng.normal(size=800),
                         rng.normal(size=800)]).astype(np.float32)
    y = ((X[:, 0] % 4 == 1) ^ (X[:, 1] > 0.3)).astype(int) + (X[:, 2] > 1.0)
    X[rng.random(X.shape) < 0.08] = np.nan
    model = HistGradientBoostingClassifier(max_iter=12, max_depth=4, random_state=0,
                                           categorical_features=[0]).fit(X, y)
    ir = load_ir(model)
    assert ir.has_categorical and ir.inf_reject.tolist() == [True, False, False]
    q = quantize_boosted(ir, mode)
    T = category_probe(q, rng, 1500)
    assert_reference_exact(q, ir, T)
    ref = q.reference(T)
    assert (ref.predict[np.isinf(T[:, 0])] == -1).all()
    assert (ref.predict[np.isinf(T[:, 1:]).any(axis=1) & np.isfinite(T[:, 0])] >= 0).any()


def test_refusals_are_one_clear_line(tmp_path: Path, capsys) -> None:
    """Categories beyond 2**15 (the bins would not hold their boundaries): one line, exit 1,
    nothing written; an unknown mode names the choices."""
    import joblib

    rng = np.random.default_rng(0)
    X = np.column_stack([rng.choice([1, 5, 40000], 300), rng.normal(size=300)]).astype(
        np.float32)
    model = lgb.LGBMClassifier(n_estimators=3, verbose=-1, min_child_samples=5,
                               min_data_per_group=5).fit(X, (X[:, 0] == 40000).astype(int),
                                                         categorical_feature=[0])
    with pytest.raises(UnsupportedModelError, match="40001 categories") as err:
        tinycodegen.compile(model, quantize="int8")
    assert "\n" not in str(err.value)
    path = tmp_path / "wide.joblib"
    joblib.dump(model, path)
    assert main(["compile", str(path), "--quantize", "int8", "-o", str(tmp_path / "o")]) != 0
    err_text = capsys.readouterr().err
    assert "40001 categories" in err_text and "Traceback" not in err_text
    assert len(err_text.strip().splitlines()) == 1 and not (tmp_path / "o").exists()
    with pytest.raises(TinycodegenError, match="unknown quantization"):
        tinycodegen.compile(model, quantize="int4")


KDD = {
    "hgb": lambda: HistGradientBoostingClassifier(max_iter=40, max_leaf_nodes=15, random_state=0),
    "lgbm": lambda: lgb.LGBMClassifier(n_estimators=40, num_leaves=15, random_state=0,
                                       verbose=-1, n_jobs=1),
    "xgb": lambda: xgb.XGBClassifier(n_estimators=40, max_depth=4, random_state=0, n_jobs=1),
}
_KDD_FITTED: dict[str, object] = {}


def kdd_model(lib: str, nsl_train) -> object:
    if lib not in _KDD_FITTED:
        with threadpool_limits(1):
            _KDD_FITTED[lib] = KDD[lib]().fit(nsl_train.X, nsl_train.y)
    return _KDD_FITTED[lib]


@pytest.fixture(scope="module")
def kdd_lgbm(nsl_train):
    return kdd_model("lgbm", nsl_train)


@pytest.mark.parametrize("lib", sorted(KDD))
@pytest.mark.parametrize("mode", ["int8", "int16"])
def test_nsl_kdd_binary(lib: str, mode: str, nsl_train, nsl_test, tmp_path: Path) -> None:
    compiled = tinycodegen.compile(kdd_model(lib, nsl_train), name="kq", quantize=mode)
    assert compiled.source.guarantee == "reference"
    report = check(compiled, nsl_test.X, y=nsl_test.y, data=nsl_test.split)
    text = report.to_text()
    print(text)
    assert report.rows == 22_544 and report.quantize == mode and report.ok
    assert report.reference_mismatches == 0 and report.reference_proba_mismatches == 0
    # the difference from the float model is reported, and small
    assert "rows where the C differs from the float sklearn model" in text
    assert report.mismatches <= 0.001 * report.rows  # measured: 0 for all three, both modes
    assert report.proba_max_abs_diff < (0.01 if mode == "int8" else 0.001)  # 0.0035, 0.00024
    assert abs(report.accuracy_c - report.accuracy_sklearn) <= 0.001
    compiled.write(tmp_path)
    cross = [["arm-none-eabi-gcc", "-mcpu=cortex-m0plus", "-mthumb"],
             ["avr-gcc", "-mmcu=atmega328p", "-Os"], ["clang"]]
    for cc in cross:
        proc = subprocess.run([*cc, *STRICT, "-c", "kq.c", "-o", "kq.o"], cwd=tmp_path,
                              capture_output=True, text=True)
        assert proc.returncode == 0, (cc[0], proc.stderr)
    assert "double" not in (tmp_path / "kq.c").read_text()


def test_nsl_kdd_5class_hgb_int8(nsl_train, nsl_test) -> None:
    """HGB 5-class leaves span 0.1 .. 9,993 (rare classes): int8 fixed point with one unit
    changed 8,369 of 22,544 KDDTest+ predictions; mantissa + exponent leaves change none."""
    from tinycodegen.datasets import nsl_kdd

    train5 = nsl_kdd.load("train", labels="5class")
    test5 = nsl_kdd.load("test", labels="5class")
    with threadpool_limits(1):
        model = HistGradientBoostingClassifier(max_iter=30, max_leaf_nodes=15,
                                               random_state=0).fit(train5.X, train5.y)
    compiled = tinycodegen.compile(model, name="k5", quantize="int8")
    assert np.abs(compiled.ir.leaf_q).max() > 127 and compiled.ir.leaf_exp.max() > 8
    report = check(compiled, test5.X, y=test5.y, data="test 5-class")
    print(report.to_text())
    assert report.ok and report.reference_mismatches == 0
    assert report.reference_proba_mismatches == 0
    assert report.mismatches <= 0.001 * report.rows  # measured: 0


@pytest.mark.skipif(any(shutil.which(t) is None for t in ("avr-gcc", "simavr")),
                    reason="needs avr-gcc and simavr; CI installs them")
def test_int8_on_avr_equals_host(kdd_lgbm, nsl_test, tmp_path: Path) -> None:
    """On the ATmega328P (16-bit int, 32-bit double, tables in flash): the binary NSL-KDD
    model's predict and predict_proba, and a 3-class HGB's (softmax through int64 requant, NaN
    and categorical rows), equal the host C bit for bit."""
    from tinycodegen.targets import measure

    compiled = tinycodegen.compile(kdd_lgbm, name="kqa", quantize="int8")
    compiled.write(tmp_path / "b")
    X = np.concatenate([nsl_test.X[:30].astype(np.float32),
                        np.full((2, nsl_test.X.shape[1]), np.nan, np.float32)])
    m = measure(tmp_path / "b", "kqa", X, "atmega328p", cache_dir=tmp_path / "cache")
    assert m.fits and m.ram_bytes == 0
    np.testing.assert_array_equal(m.predictions, compiled.predict_index(X))
    mp = measure(tmp_path / "b", "kqa", X[:12], "atmega328p", cache_dir=tmp_path / "cache",
                 function="predict_proba")
    want = compiled.predict_proba(X[:12]).astype(np.float32)
    np.testing.assert_array_equal(mp.predictions.view(np.uint32), want.view(np.uint32))
    rng = np.random.default_rng(8)
    T = np.column_stack([rng.integers(0, 8, 400), rng.normal(size=(400, 2))]).astype(np.float32)
    y = (T[:, 0] % 3).astype(int)
    T[rng.random(T.shape) < 0.1] = np.nan
    with threadpool_limits(1):
        hgb = HistGradientBoostingClassifier(max_iter=5, random_state=0,
                                             categorical_features=[0]).fit(T, y)
    compiled = tinycodegen.compile(hgb, name="k3", quantize="int8")
    assert compiled.ir.n_outputs == 3 and (compiled.ir.cat_set >= 0).any()
    compiled.write(tmp_path / "m")
    mp = measure(tmp_path / "m", "k3", T[:16], "atmega328p", cache_dir=tmp_path / "cache",
                 function="predict_proba")
    want = compiled.predict_proba(T[:16]).astype(np.float32)
    np.testing.assert_array_equal(mp.predictions.view(np.uint32), want.view(np.uint32))


def test_cli_check_quantized_on_kddtest21(tmp_path: Path, kdd_lgbm, capsys) -> None:
    import json

    import joblib

    path = tmp_path / "lgbm.joblib"
    joblib.dump(kdd_lgbm, path)
    assert main(["check", str(path), "--quantize", "int8", "--data", "nsl-kdd:test21",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["quantize"] == "int8" and report["ok"] is True and report["rows"] == 11_850
    assert report["reference_mismatches"] == 0 and report["reference_proba_mismatches"] == 0
    assert 0 <= report["mismatches"] <= 0.01 * report["rows"]
    assert main(["compile", str(path), "--quantize", "int16", "-o", str(tmp_path / "o"),
                 "--name", "kb"]) == 0
    header = (tmp_path / "o" / "kb.h").read_text()
    assert '#define KB_QUANTIZE "int16"' in header and "kb_qraw" in header


@pytest.mark.parametrize("voting", ["soft", "hard"])
def test_quantized_vote_with_boosted_members(voting: str) -> None:
    """Boosted members in a quantized VotingClassifier: soft votes add their NAME_qproba
    numerators (Q16), hard votes their predicts; C == the qhybrid reference bit for bit."""
    from sklearn.ensemble import RandomForestClassifier, VotingClassifier

    rng = np.random.default_rng(4)
    X = rng.normal(size=(400, 3)).astype(np.float32)
    y = np.argmax(X + rng.normal(size=(400, 3)) * 0.5, axis=1)
    vote = VotingClassifier([
        ("hgb", HistGradientBoostingClassifier(max_iter=6, random_state=0)),
        ("lgbm", LIBS["lgbm"](6, 3)),
        ("rf", RandomForestClassifier(4, max_depth=4, random_state=0))], voting=voting)
    with threadpool_limits(1):
        vote.fit(X, y)
    T = np.concatenate([X[:200], rng.normal(size=(50, 3)).astype(np.float32) * 3])
    for mode in ("int8", "int16"):
        compiled = tinycodegen.compile(vote, name="qv", quantize=mode)
        assert [m.kind for m in compiled.ir.members][:2] == ["qboosted_trees"] * 2
        report = check(compiled, T)
        assert report.ok and report.reference_mismatches == 0
        assert report.reference_proba_mismatches in (0, None)
        assert report.mismatches <= 0.02 * report.rows


@pytest.mark.parametrize("k", [2, 3])
def test_one_leaf_trees_only(k: int) -> None:
    """No split node at all (every table is a placeholder): the C compiles -Werror and is the
    base plus the leaves; NaN and inf follow the policy."""
    n_out = 1 if k == 2 else k
    policy = "reject" if k == 2 else "route"
    meta = ModelMeta(n_features=2, classes=np.arange(k), estimator="Synthetic",
                     feature_names=None, nan_policy=policy)
    ir = BoostedTreesIR(
        meta=meta, feature=np.zeros(0, np.int32), threshold=np.zeros(0, np.float32),
        left=np.zeros(0, np.int32), right=np.zeros(0, np.int32), nan_left=np.zeros(0, bool),
        roots=~np.arange(2 * n_out, dtype=np.int32), leaf_value=np.linspace(-1, 1, 2 * n_out),
        tree_output=(np.arange(2 * n_out) % n_out).astype(np.int32), base=np.zeros(n_out),
        accumulate="float64", link="sk_binary" if k == 2 else "sk_softmax",
        predict_rule="raw_gt_zero" if k == 2 else "raw_argmax")
    X = np.array([[0, 1], [np.nan, 0], [np.inf, 1], [-0.0, 5e-45]], np.float32)
    for mode in ("int8", "int16"):
        q = quantize_boosted(ir, mode)
        assert q.n_nodes == 0
        assert_reference_exact(q, ir, X)
        assert q.reference(X).predict.tolist() == ([0, -1, -1, 0] if k == 2 else [2, 2, -1, 2])


def test_pipeline_scaler_folded_then_quantized() -> None:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(6)
    X = (rng.normal(size=(300, 3)) * 5 + 2).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 4).astype(int)
    pipe = make_pipeline(StandardScaler(), GradientBoostingClassifier(
        n_estimators=6, max_depth=2, random_state=0)).fit(X, y)
    for mode in ("int8", "int16"):
        compiled = tinycodegen.compile(pipe, name="qp", quantize=mode)
        assert compiled.ir.kind == "qboosted_trees"
        report = check(compiled, np.concatenate([X, probe_rows(compiled.ir, rng, 200)]))
        assert report.ok and report.reference_mismatches == 0
        assert report.reference_proba_mismatches == 0 and report.mismatches == 0
