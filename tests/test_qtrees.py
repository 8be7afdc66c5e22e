"""Quantized tree ensembles (--quantize int8/int16): C == integer reference bit for bit, routing
identical to the float trees, bounded and reported differences from sklearn, NSL-KDD parity."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import joblib
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

import tinycodegen
from helpers import STRICT, trains_on_nan
from tinycodegen.api import write_files
from tinycodegen.build import build
from tinycodegen.check import check
from tinycodegen.cli import main
from tinycodegen.core.base import ModelMeta, rejected_rows
from tinycodegen.errors import TinycodegenError
from tinycodegen.families.registry import quantize
from tinycodegen.families.trees.emit_quantized import STRATEGIES, choose_strategy, emit_qtree_table
from tinycodegen.families.trees.ir import TreeEnsembleIR
from tinycodegen.families.trees.qpack import child_codes, pack_nodes, unpack
from tinycodegen.families.trees.quantize import round_leaves
from tinycodegen.lower import load as load_ir

F32_MAX = np.finfo(np.float32).max
ET_NAN = trains_on_nan(ExtraTreesClassifier(1))
SPECIAL = np.array([0.0, -0.0, np.nan, F32_MAX, -F32_MAX, 1e-45, -1e-45, 1e-40, -3e-39,
                    1.1754944e-38, -1.1754942e-38], dtype=np.float32)


def test_round_leaves_largest_remainder() -> None:
    cases = {(0.5, 0.5): [128, 127], (0.999, 0.001): [255, 0], (1 / 3,) * 3: [85, 85, 85],
             (0.2, 0.3, 0.5): [51, 77, 127], (0.1, 0.45, 0.45): [25, 115, 115]}
    for p, want in cases.items():
        assert round_leaves(np.array([p]), 255).tolist() == [want]
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(4), size=500)
    for scale in (255, 65535):
        q = round_leaves(p, scale)
        assert (q.sum(axis=1) == scale).all() and (np.abs(q - p * scale) < 1).all()


def probe_rows(q, rng: np.random.Generator, n: int) -> np.ndarray:
    """Each feature's thresholds, their float32 neighbours, NaN, +-0, subnormals, +-FLT_MAX."""
    nf = q.meta.n_features
    X = np.empty((n, nf), dtype=np.float32)
    for f in range(nf):
        thr = q.feature_thresholds(f)
        with np.errstate(over="ignore"):  # FLT_MAX's upper neighbour is inf
            near = [np.nextafter(thr, np.float32(np.inf)), np.nextafter(thr, np.float32(-np.inf))]
        pool = np.concatenate([thr, *near, SPECIAL,
                               rng.normal(size=8).astype(np.float32) * 3]).astype(np.float32)
        X[:, f] = rng.choice(pool, size=n)
    X[rng.random(n) < 0.04, rng.integers(0, nf)] = np.inf
    X[rng.random(n) < 0.04, rng.integers(0, nf)] = -np.inf
    X[:3] = [np.inf] * nf, [-np.inf] * nf, [np.nan] * nf
    return X


@st.composite
def forests(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    nf, k, n = draw(st.integers(1, 5)), draw(st.integers(2, 4)), 200
    X = rng.normal(size=(n, nf)) * draw(st.sampled_from([1e-39, 1e-3, 1.0, 1e30]))
    grid = draw(st.sampled_from([0, 1, 4]))
    if grid:
        X = np.round(X * grid) / grid  # few distinct values: thresholds repeat across trees
    kind = draw(st.sampled_from(["dt", "rf", "et"]))
    if draw(st.booleans()) and (kind != "et" or ET_NAN):
        X[rng.random(X.shape) < 0.15] = np.nan  # learned missing-value routes, both ways
    scale = np.nanstd(X[:, 0]) if not np.isnan(X[:, 0]).all() else 1.0
    y = (np.nan_to_num(X[:, 0] / (scale or 1.0)) * 2 + rng.integers(0, k, n)).astype(int) % k
    y[:k] = np.arange(k)
    labels = np.array(["normal", "dos", "probe", "r2l"])[y]
    depth = draw(st.one_of(st.none(), st.integers(1, 8)))
    trees = draw(st.integers(1, 7))
    if kind == "dt":
        model = DecisionTreeClassifier(max_depth=depth, random_state=seed)
    elif kind == "rf":
        model = RandomForestClassifier(trees, max_depth=depth, random_state=seed, n_jobs=1)
    else:
        model = ExtraTreesClassifier(trees, max_depth=depth, random_state=seed, n_jobs=1)
    mode = draw(st.sampled_from(["int8", "int16"]))
    strategy = draw(st.sampled_from(sorted(STRATEGIES)))
    return model.fit(X.astype(np.float32), labels), mode, strategy, rng


def clang_strict(source, tmp: Path) -> None:
    write_files(source, tmp)
    for c_file in tmp.glob("*.c"):
        proc = subprocess.run(["clang", *STRICT, "-O2", "-c", str(c_file), "-o",
                               str(tmp / "m.o")], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


@settings(max_examples=16, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(case=forests())
def test_random_forests_bit_exact(case, tmp_path: Path) -> None:
    model, mode, strategy, rng = case
    q, fir = tinycodegen.compile(model, name="hq", quantize=mode).ir, load_ir(model)
    source = emit_qtree_table(q, "hq", strategy)
    native = build(source)
    X = probe_rows(q, rng, 500)
    bad = rejected_rows(X, q.meta.nan_policy)
    ref = q.reference(X)
    # the C (strict gcc build) equals the integer reference on every row, proba bit for bit
    np.testing.assert_array_equal(native.predict_index(X), ref.predict)
    proba = native.predict_proba(X)
    np.testing.assert_array_equal(proba.view(np.uint32), ref.proba.astype(np.float32)
                                  .view(np.uint32))
    assert (ref.predict[bad] == -1).all() and (ref.predict[~bad] >= 0).all()
    # routing is the float trees' routing: same leaf in every tree
    np.testing.assert_array_equal(q.apply(X)[~bad], q.leaf_map[fir.apply(X)[~bad]])
    # differences from sklearn only where leaf rounding (< 1/scale per class) can decide
    ok = ~bad
    sk = model.predict_proba(X[ok].astype(np.float64))
    assert np.abs(proba[ok] - sk).max() < 1.0 / q.scale + 1e-6
    top = np.sort(sk, axis=1)
    margin = top[:, -1] - (top[:, -2] if sk.shape[1] > 1 else 0.0)
    sure = margin > 2.0 / q.scale + 1e-9
    np.testing.assert_array_equal(ref.predict[ok][sure], np.argmax(sk, axis=1)[sure])
    # packed words decode back to the IR
    p = pack_nodes(q)
    np.testing.assert_array_equal(unpack(p, "feat"), q.feature)
    np.testing.assert_array_equal(unpack(p, "bin"), q.bin)
    left, right, _, _ = child_codes(q)
    np.testing.assert_array_equal(unpack(p, "left"), left)
    np.testing.assert_array_equal(unpack(p, "right"), right)
    clang_strict(source, tmp_path / f"c{rng.integers(1 << 30)}")


def test_wide_features_and_many_trees() -> None:
    # 1200 distinct values on one feature: more thresholds than 8-bit bins hold.
    rng = np.random.default_rng(7)
    X = np.stack([np.arange(1200.0), np.zeros(1200)], axis=1).astype(np.float32)
    X[rng.random(1200) < 0.05, 0] = np.nan
    y = (np.arange(1200) // 2) % 3  # a class change every 2 values: hundreds of thresholds
    model = DecisionTreeClassifier(random_state=0).fit(X, y)
    compiled = tinycodegen.compile(model, name="wide", quantize="int8")
    q = compiled.ir
    assert q.wide_features == (0,) and q.bin_bits == 16 and q.n_thresholds[0] > 255
    assert any("uint16" in n for n in compiled.source.notes)
    Xt = probe_rows(q, rng, 2000)
    report = check(compiled, Xt)
    assert report.reference_mismatches == 0 and report.reference_proba_mismatches == 0
    # 260 int16 trees: the score total 260 * 65535 is not a float32, proba still bit-exact
    forest = RandomForestClassifier(260, max_depth=2, max_samples=0.1, random_state=0,
                                    n_jobs=1).fit(X, y)
    compiled = tinycodegen.compile(forest, name="many", quantize="int16")
    assert compiled.ir.denominator > 1 << 24
    report = check(compiled, Xt)
    assert report.ok and report.reference_proba_mismatches == 0, report.to_text()


def chain_ir(n_thr: int, nan_left: np.ndarray) -> TreeEnsembleIR:
    """One tree testing x0 <= i + 0.5 for i = 0..n_thr-1 in a chain: n_thr + 1 leaves."""
    i = np.arange(n_thr)
    right = np.where(i + 1 < n_thr, i + 1, ~n_thr)
    leaves = np.random.default_rng(n_thr).dirichlet([1.0, 1.0], size=n_thr + 1)
    meta = ModelMeta(n_features=1, classes=("a", "b"), estimator="Chain", nan_policy="route")
    return TreeEnsembleIR(meta=meta, feature=np.zeros(n_thr, np.int32),
                          threshold=(i + 0.5).astype(np.float32), left=(~i).astype(np.int32),
                          right=right.astype(np.int32), nan_left=nan_left,
                          roots=np.zeros(1, np.int32), leaf_values=leaves, divisor=1)


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
@pytest.mark.parametrize(("n_thr", "mixed", "bits"), [(255, False, 8), (254, True, 8),
                                                       (255, True, 16)])
def test_int8_bin_limit(n_thr: int, mixed: bool, bits: int, strategy: str) -> None:
    nan_left = np.zeros(n_thr, dtype=bool)
    nan_left[n_thr // 2] = mixed
    src = chain_ir(n_thr, nan_left)
    q = quantize(src, "int8")
    assert q.bin_bits == bits and q.wide_features == (() if bits == 8 else (0,))
    x = np.arange(n_thr, dtype=np.float32) + np.float32(0.5)
    with np.errstate(over="ignore"):
        X = np.concatenate([x, np.nextafter(x, np.inf), np.nextafter(x, -np.inf), SPECIAL,
                            [np.float32(n_thr + 7)]]).astype(np.float32)[:, None]
    native = build(emit_qtree_table(q, "chain", strategy))
    ref = q.reference(X)
    np.testing.assert_array_equal(native.predict_index(X), ref.predict)
    np.testing.assert_array_equal(native.predict_proba(X), ref.proba.astype(np.float32))
    ok = ~np.isinf(X[:, 0])
    np.testing.assert_array_equal(q.apply(X)[ok], q.leaf_map[src.apply(X)[ok]])
    nan_leaf = q.apply(np.array([[np.nan]], np.float32))[0, 0]
    assert nan_leaf == q.leaf_map[n_thr // 2 if mixed else n_thr]


def test_single_class_model() -> None:
    model = DecisionTreeClassifier().fit([[0.0, 1.0], [1.0, 2.0]], ["only", "only"])
    compiled = tinycodegen.compile(model, name="one", quantize="int8")
    rows = np.array([[5.0, -1.0], [np.nan, 0.0], [np.inf, 0.0]], dtype=np.float32)
    report = check(compiled, rows)
    assert report.ok and report.mismatches == 0, report.to_text()
    assert compiled.predict_index(rows).tolist() == [0, 0, -1]
    assert compiled.predict_proba(rows).tolist() == [[1.0], [1.0], [0.0]]


def test_two_quantized_models_link_together(tmp_path: Path) -> None:
    X = np.random.default_rng(1).normal(size=(300, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 1)
    objs = []
    for name, mode in (("qa", "int8"), ("qb", "int16")):
        model = RandomForestClassifier(3, max_depth=4, random_state=len(name + mode)).fit(X, y)
        out = tmp_path / name
        tinycodegen.compile(model, name=name, quantize=mode).write(out)
        for cc in ("gcc", "clang"):
            obj = tmp_path / f"{name}_{cc}.o"
            subprocess.run([cc, *STRICT, "-Os", "-c", str(out / f"{name}.c"), "-o", str(obj)],
                           check=True)
        objs.append((out, tmp_path / f"{name}_gcc.o"))
    main_c = tmp_path / "main.c"
    main_c.write_text('#include "qa.h"\n#include "qb.h"\nint main(void)\n{\n'
                      "    const float x[3] = {0.5f, 1.5f, -1.0f};\n"
                      "    return (int)(qa_predict(x) + qb_predict(x)) >= 0 ? 0 : 1;\n}\n")
    exe = tmp_path / "both"
    subprocess.run(["gcc", *STRICT, f"-I{objs[0][0]}", f"-I{objs[1][0]}", str(main_c),
                    str(objs[0][1]), str(objs[1][1]), "-o", str(exe)], check=True)
    assert subprocess.run([str(exe)]).returncode == 0


def test_unsupported_kind_and_mode_errors() -> None:
    class FakeIR:
        kind = "no_such_kind"

    with pytest.raises(TinycodegenError, match="not available for no_such_kind.*tree_ensemble"):
        quantize(FakeIR(), "int8")
    model = DecisionTreeClassifier(max_depth=2).fit([[0.0], [1.0]], [0, 1])
    with pytest.raises(TinycodegenError, match="unknown quantization 'int4'"):
        tinycodegen.compile(model, quantize="int4")
    with pytest.raises(TinycodegenError, match="comparison backend 'm2cgen'"):
        tinycodegen.compile(model, backend="m2cgen", quantize="int8")
    with pytest.raises(TinycodegenError, match="backend 'inline' cannot compile a qtree"):
        tinycodegen.compile(model, backend="inline", quantize="int8")


def object_bytes(compiled, tmp: Path) -> int:
    """text + data + rodata of `gcc -Os -c` of the model's .c (the study's flash measure)."""
    compiled.write(tmp)
    obj = tmp / "m.o"
    subprocess.run(["gcc", "-Os", "-std=c99", "-ffp-contract=off", "-c",
                    str(tmp / f"{compiled.name}.c"), "-o", str(obj)], check=True)
    out = subprocess.run([shutil.which("size") or "size", "-A", str(obj)], check=True,
                         capture_output=True, text=True).stdout
    return sum(int(line.split()[1]) for line in out.splitlines()
               if line.split()[:1] and line.split()[0].startswith((".text", ".data", ".rodata")))


@pytest.mark.parametrize("mode", ["int8", "int16"])
def test_nsl_kdd_forest(mode: str, example_forest, nsl_test, nsl_test21, tmp_path: Path) -> None:
    compiled = tinycodegen.compile(example_forest, name="kdd", quantize=mode)
    chosen = choose_strategy(compiled.ir)  # measured: keys (int8), bins (int16: 1-word nodes)
    assert STRATEGIES[chosen] in compiled.source.notes[-1]
    other = build(emit_qtree_table(compiled.ir, "kdd", "keys" if chosen == "bins" else "bins"))
    for ds in (nsl_test, nsl_test21):
        np.testing.assert_array_equal(other.predict_index(ds.X), compiled.predict_index(ds.X))
        np.testing.assert_array_equal(other.predict_proba(ds.X), compiled.predict_proba(ds.X))
        report = check(compiled, ds.X, y=ds.y, data=ds.split)
        print(report.to_text())
        assert report.reference_mismatches == 0 and report.reference_proba_mismatches == 0
        assert report.ok and report.quantize == mode
        # measured: 0 rows differ from sklearn in both modes on both test sets
        assert report.mismatches <= 0.001 * report.rows, report.to_text()
        assert abs(report.accuracy_c - report.accuracy_sklearn) <= 0.001
    sizes = {m: object_bytes(c, tmp_path / m) for m, c in
             (("float", tinycodegen.compile(example_forest, name="kdd")), (mode, compiled))}
    print(f"object bytes: {sizes}, ratio {sizes[mode] / sizes['float']:.3f}")
    # measured (gcc 12 -Os, x86-64): int8 7,892 and int16 8,505 bytes vs 13,283 for the float
    # table backend (0.59x / 0.64x): every distinct float32 threshold is kept, for exact routing
    assert sizes[mode] <= (8_200 if mode == "int8" else 8_800) < sizes["float"]


def test_cli_quantized_check(tmp_path: Path, example_forest, capsys) -> None:
    path = tmp_path / "rf.joblib"
    joblib.dump(example_forest, path)
    assert main(["check", str(path), "--quantize", "int8", "--data", "nsl-kdd:test21",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["quantize"] == "int8" and report["ok"] is True
    assert report["reference_mismatches"] == 0 and report["reference_proba_mismatches"] == 0
    assert report["accuracy_c"] is not None and report["rows"] == 11_850
    assert main(["compile", str(path), "--quantize", "int16", "-o", str(tmp_path / "o"),
                 "--name", "kq"]) == 0
    header = (tmp_path / "o" / "kq.h").read_text()
    assert '#define KQ_QUANTIZE "int16"' in header and "kq_qscores" in header
    assert "quantized int16" in capsys.readouterr().err
