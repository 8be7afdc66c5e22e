"""The speed and size tree layouts: deep trees without recursion, forests too large for 32-bit
records, C++ builds, --optimize on the command line and in the API (parity on edge values, NaN,
inf, multiclass and string labels: test_trees.py, test_tree_keys.py; all of KDDTest+:
test_nslkdd_parity.py)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

import tinycodegen
from tinycodegen.build import build
from tinycodegen.check import check
from tinycodegen.errors import TinycodegenError
from tinycodegen.families.registry import emit
from tinycodegen.families.trees.emit_packed import pack
from tinycodegen.lower import load as load_ir

F32 = np.float32
LAYOUTS = ("speed", "size")


def _chain_ir(depth: int):
    """One tree of ``depth`` split nodes in a chain (node i: x <= i + 0.5 goes to leaf i % 2,
    else to node i + 1), NaN sent left on every third node."""
    X = np.array([[0.0], [1.0]], dtype=F32)
    base = load_ir(DecisionTreeClassifier().fit(X, [0, 1]))
    n = depth
    left = np.array([~(i % 2) for i in range(n)], dtype=np.int32)
    right = np.array([i + 1 for i in range(n - 1)] + [~2], dtype=np.int32)
    return dataclasses.replace(
        base, feature=np.zeros(n, np.int32), threshold=np.arange(n, dtype=F32) + F32(0.5),
        left=left, right=right, nan_left=np.arange(n) % 3 == 0, roots=np.array([0], np.int32),
        leaf_values=np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]), child_weight=None)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_thousand_node_deep_tree(layout: str) -> None:
    ir = _chain_ir(1000)
    native = build(emit(ir, f"deep_{layout}", layout))
    x = np.arange(-1, 1002, dtype=F32)
    x = np.concatenate([x, np.nextafter(x + F32(0.5), F32(np.inf)), [np.nan, np.inf, 1e30]])
    X = x.astype(F32)[:, None]
    ref = ir.reference(X)
    assert (native.predict_index(X) == ref.predict).all()
    assert (native.predict_proba(X) == ref.proba.astype(F32)).all()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_forest_too_large_for_32_bit_records(layout: str) -> None:
    rng = np.random.default_rng(11)
    X = rng.normal(size=(1500, 6)).astype(F32)
    y = np.array(["a", "b", "c"])[(X[:, 0] + rng.normal(size=1500) > 0).astype(int)
                                  + (X[:, 1] > 1)]
    model = RandomForestClassifier(12, random_state=0, n_jobs=1).fit(X, y)
    p = pack(load_ir(model))
    assert p.per_node == 3  # the three fields no longer fit in one 32-bit word
    compiled = tinycodegen.compile(model, name=f"big_{layout}", optimize=layout)
    assert compiled.backend == layout
    Xt = rng.normal(size=(1500, 6)).astype(F32)
    Xt[rng.random(Xt.shape) < 0.02] = np.nan
    Xt[0], Xt[1] = np.inf, -np.inf
    report = check(compiled, Xt)
    assert report.mismatches == 0 and report.proba_mismatches == 0, report.to_text()


def test_cxx11_builds(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 3)).astype(F32)
    X[rng.random(X.shape) < 0.1] = np.nan
    model = RandomForestClassifier(4, max_depth=5, random_state=0, n_jobs=1).fit(
        X, (np.nan_to_num(X[:, 0]) > 0).astype(int))
    for layout in LAYOUTS:
        tinycodegen.compile(model, name=f"cx_{layout}", optimize=layout).write(tmp_path)
        proc = subprocess.run(["g++", "-x", "c++", "-std=c++11", "-Wall", "-Wextra", "-Werror",
                               "-Os", "-c", str(tmp_path / f"cx_{layout}.c"), "-o",
                               str(tmp_path / f"cx_{layout}.o")], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


def test_optimize_keeps_the_one_layout_of_other_models_and_refuses_comparison_backends() -> None:
    from sklearn.linear_model import LogisticRegression

    X = np.random.default_rng(0).normal(size=(80, 3))
    lr = LogisticRegression().fit(X, X[:, 0] > 0)
    assert tinycodegen.compile(lr, name="lr", optimize="speed").backend == "table"
    with pytest.raises(TinycodegenError, match="does not combine"):
        tinycodegen.compile(lr, name="lr", backend="m2cgen", optimize="size")


def test_cli_compile_optimize(tmp_path: Path) -> None:
    X = np.random.default_rng(1).normal(size=(100, 2)).astype(F32)
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, X[:, 0] > 0)
    path = tmp_path / "dt.joblib"
    joblib.dump(model, path)
    run = [sys.executable, "-m", "tinycodegen", "compile", str(path), "--name", "dt"]
    ok = subprocess.run([*run, "-o", str(tmp_path / "out"), "--optimize", "size"],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "size layout" in (tmp_path / "out" / "dt.c").read_text()
    bad = subprocess.run([*run, "-o", str(tmp_path / "bad"), "--optimize", "speed", "--backend",
                          "emlearn"], capture_output=True, text=True)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize("target", ["cortex-m4f", "cortex-m0plus"])
@pytest.mark.parametrize("n_features", [9, 4, 41, 17, 2, 64])
def test_thumb2_input_check_on_the_emulator(n_features: int, target: str,
                                            tmp_path: Path) -> None:
    """The speed layout's input check (Thumb-2 assembly; with the M4F's FPU a load-multiple of
    up to 16 values and a float sum; on the M0+ Thumb-1 assembly, a load-multiple of three and
    a branch on a carry per value) rejects +-inf and routes NaN exactly as the host C does (one
    and several load-multiples, a finite sum that overflows, inf + -inf)."""
    from tinycodegen.targets import measure

    rng = np.random.default_rng(n_features)
    X = rng.normal(size=(400, n_features)).astype(F32)
    X[rng.random(X.shape) < 0.05] = np.nan
    model = RandomForestClassifier(5, max_depth=5, random_state=0, n_jobs=1).fit(
        X, (np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, -1]) > 0).astype(int))
    compiled = tinycodegen.compile(model, name="th2", optimize="speed")
    assert "ldmia" in compiled.source.files["th2.c"]
    assert "vadd.f32" in compiled.source.files["th2.c"]
    compiled.write(tmp_path)
    rows = rng.normal(size=(48, n_features)).astype(F32)
    specials = np.array([np.inf, -np.inf, np.nan, 3.4028235e38, -3.4028235e38, -0.0, 1e-45],
                        dtype=F32)
    for i in range(40):  # one special value at every position, then a few at random
        rows[i, i % n_features] = specials[i % len(specials)]
    rows[40:44][rng.random((4, n_features)) < 0.5] = np.inf
    rows[44], rows[45, :2] = F32(3.4028235e38), (np.inf, -np.inf)  # sum overflows; inf - inf
    rows[46], rows[47, -1] = F32(-3.4028235e38), np.nan
    host = compiled.predict_index(rows)
    assert (host[np.isinf(rows).any(axis=1)] == -1).all() and (host >= 0).sum() > 20
    m = measure(tmp_path, "th2", rows, target)
    assert np.array_equal(np.asarray(m.predictions), host)
