"""The quantized trees' ``nodes`` layout (emit_qnodes): each split's threshold key in its own
two-word record. Records decode back to the IR; the C equals the integer reference and the
``keys`` build on threshold neighbours, NaN (routed both ways), +-inf (rejected), +-0 and
negative thresholds; models the format cannot hold fall back to ``keys``; the study's Tiny RF
shape picks it; on the Uno it equals the host C."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

import tinycodegen
from helpers import trains_on_nan
from tinycodegen.build import build
from tinycodegen.families.trees.emit_qnodes import CODE_BITS, fits, node_words, raw_keys
from tinycodegen.families.trees.emit_qparts import STRATEGIES, nan_left_bits, threshold_keys
from tinycodegen.families.trees.emit_quantized import choose_strategy, emit_qtree_table
from tinycodegen.families.trees.qpack import child_codes
from tinycodegen.targets import measure

RF_NAN = trains_on_nan(RandomForestClassifier(1))


def probe(q, rng: np.random.Generator, base: np.ndarray, n: int) -> np.ndarray:
    """Rows of base with features replaced by thresholds, their float32 neighbours, +-0, NaN
    and (in a few rows) +-inf."""
    X = base[rng.integers(0, len(base), n)].astype(np.float32)
    for f in range(q.meta.n_features):
        thr = q.feature_thresholds(f)
        if len(thr) == 0:
            continue
        with np.errstate(over="ignore"):
            pool = np.concatenate([thr, np.nextafter(thr, np.float32(np.inf)),
                                   np.nextafter(thr, np.float32(-np.inf)),
                                   np.float32([0.0, -0.0, np.nan])]).astype(np.float32)
        pick = rng.random(n) < 0.3
        X[pick, f] = rng.choice(pool, int(pick.sum()))
    X[:4, 0] = np.float32([np.inf, -np.inf, np.nan, -0.0])
    return X


def _same_as_reference_and_keys(q, X: np.ndarray) -> None:
    nodes, keys = (build(emit_qtree_table(q, "qn", s)) for s in ("nodes", "keys"))
    ref = q.reference(X)
    for native in (nodes, keys):
        np.testing.assert_array_equal(native.predict_index(X), ref.predict)
        np.testing.assert_array_equal(native.predict_proba(X).view(np.uint32),
                                      ref.proba.astype(np.float32).view(np.uint32))


def test_records_decode_back_to_the_ir() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(2000, 5)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    rf = RandomForestClassifier(4, max_depth=5, random_state=0, n_jobs=1).fit(X, y)
    q = tinycodegen.compile(rf, name="qn", quantize="int8").ir
    assert fits(q) and not raw_keys(q)  # negative thresholds: ordered keys, not raw bits
    words, leaf0 = node_words(q)
    key = threshold_keys(q.thresholds)[q.thr_offset[q.feature] + q.bin]
    np.testing.assert_array_equal(words[:, 0], key)
    meta = words[:, 1].astype(np.int64)
    np.testing.assert_array_equal(meta & 0xFC, 4 * q.feature)
    np.testing.assert_array_equal((meta & 1).astype(bool), nan_left_bits(q))
    assert child_codes(q)[2] >= 1  # every child after its parent (pre-order)
    mask = (1 << CODE_BITS) - 1
    for got, child in ((meta >> 8) & mask, q.left), (meta >> 20, q.right):
        node = child >= 0
        # a node child: the byte offset of its record; a leaf: LEAF0 + its index
        np.testing.assert_array_equal(got[node], 8 * (child[node] - np.flatnonzero(node)))
        np.testing.assert_array_equal(got[~node], leaf0 + ~child[~node])
        assert (got[node] < leaf0).all() and (got[node] > 0).all()
    _same_as_reference_and_keys(q, probe(q, rng, X, 3000))


@pytest.mark.skipif(not RF_NAN, reason="this scikit-learn's forests do not train on NaN")
def test_nan_routing_and_raw_thresholds() -> None:
    """Non-negative data trained with NaN: raw-bit thresholds, NaN routed left at some splits
    and right at others (the per-split bit), -0.0 below every threshold."""
    rng = np.random.default_rng(11)
    X = np.abs(rng.normal(size=(3000, 6))).astype(np.float32)
    y = (X[:, 0] > 0.7).astype(int) + (X[:, 1] > 1.0)
    X[rng.random(X.shape) < 0.08] = np.nan
    rf = RandomForestClassifier(6, max_depth=6, random_state=0, n_jobs=1).fit(X, y)
    q = tinycodegen.compile(rf, name="qn", quantize="int8").ir
    assert fits(q) and raw_keys(q) and q.meta.nan_policy == "route"
    bits = nan_left_bits(q)
    assert bits.any() and not bits.all()
    _same_as_reference_and_keys(q, probe(q, rng, X, 4000))


def test_unfit_models_fall_back_to_keys() -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(500, 70)).astype(np.float32)  # 70 features: byte offsets > 255
    y = (X[:, 65] > 0).astype(int)
    rf = RandomForestClassifier(2, max_depth=3, random_state=0, n_jobs=1).fit(X, y)
    compiled = tinycodegen.compile(rf, name="wide", quantize="int8")
    assert not fits(compiled.ir) and choose_strategy(compiled.ir) != "nodes"
    source = emit_qtree_table(compiled.ir, "wide", "nodes")
    assert source.notes[-1].endswith(STRATEGIES["keys"])
    T = rng.normal(size=(300, 70)).astype(np.float32)
    np.testing.assert_array_equal(build(source).predict_index(T), compiled.ir.reference(T).predict)


@pytest.fixture(scope="module")
def tiny_rf(nsl_train):
    """The study's Tiny RF shape: 5 trees, depth 6, int8."""
    rf = RandomForestClassifier(5, max_depth=6, random_state=0, n_jobs=1).fit(nsl_train.X,
                                                                           nsl_train.y)
    return tinycodegen.compile(rf, name="tinyrf", quantize="int8")


def test_tiny_rf_picks_nodes_and_equals_its_reference(tiny_rf, nsl_test) -> None:
    q = tiny_rf.ir
    assert choose_strategy(q) == "nodes" and tiny_rf.source.notes[-1].endswith(STRATEGIES["nodes"])
    rng = np.random.default_rng(2)
    X = np.concatenate([nsl_test.X[:3000].astype(np.float32), probe(q, rng, nsl_test.X, 3000)])
    _same_as_reference_and_keys(q, X)
    assert (q.reference(X[3000:3002]).predict == -1).all()  # +-inf rejected


@pytest.mark.skipif(any(shutil.which(t) is None for t in ("avr-gcc", "simavr")),
                    reason="needs gcc-avr, avr-libc and simavr (Debian); CI installs them")
def test_nodes_on_avr_equal_host(tiny_rf, nsl_test, tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    X = np.concatenate([nsl_test.X[:40].astype(np.float32), probe(tiny_rf.ir, rng,
                                                                  nsl_test.X, 40)])
    folder = tmp_path / "tinyrf"
    tiny_rf.write(folder)
    m = measure(folder, "tinyrf", X, "atmega328p", cache_dir=tmp_path / "cache")
    assert m.fits and m.ram_bytes == 0
    np.testing.assert_array_equal(m.predictions, tiny_rf.predict_index(X))
