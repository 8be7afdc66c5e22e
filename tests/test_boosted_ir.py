"""The boosted C equals the IR's reference on synthetic IRs that use every rule the loaders of
other libraries lower to: float32 sums, LightGBM's missing-zero nodes and categorical rule,
infinite thresholds, NaN-left nodes, the XGBoost and LightGBM links and every predict rule.
(The loaders' own tests compare with the libraries; this pins the C to the IR.)"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tinycodegen.build import build
from tinycodegen.core.base import ModelMeta
from tinycodegen.families.boosted.ir import ZERO_THRESHOLD, BoostedTreesIR
from tinycodegen.families.registry import emit

N_FEATURES = 4
CASES = {  # link, predict rule, accumulate, n_classes, categorical rule, NaN policy
    "lgbm binary": ("lgbm_sigmoid", "raw_gt_zero", "float64", 2, "lightgbm", "route"),
    "lgbm softmax": ("lgbm_softmax", "proba_argmax", "float64", 3, "lightgbm", "route"),
    "xgb binary": ("xgb_sigmoid", "proba_gt_half", "float32", 2, "hgb", "route"),
    "xgb softmax": ("xgb_softmax", "raw_argmax", "float32", 3, "hgb", "accept"),
    "sk exponential": ("sk_binary", "raw_ge_zero", "float64", 2, "hgb", "accept"),
}


def random_ir(seed: int, link: str, rule: str, acc: str, k: int, cat_rule: str,
              policy: str) -> BoostedTreesIR:
    rng = np.random.default_rng(seed)
    z = np.float32(ZERO_THRESHOLD)
    pool = np.float32([0.0, -0.0, 0.5, -1.5, np.inf, -np.inf, z, -z, 1e-45, 3.0])
    cols: dict[str, list] = {k_: [] for k_ in ("f", "t", "l", "r", "n", "mz", "cs")}
    roots, leaves, outputs = [], [], []
    n_out = 1 if k == 2 else k
    for t in range(12):
        def grow(depth: int) -> int:
            if depth == 0 or rng.random() < 0.2:
                leaves.append(float(np.float32(rng.normal())))
                return ~(len(leaves) - 1)
            i = len(cols["f"])
            for key in cols:
                cols[key].append(0)
            cols["f"][i] = int(rng.integers(N_FEATURES))
            cols["t"][i] = rng.choice(pool) if rng.random() < 0.4 else np.float32(rng.normal())
            cols["n"][i] = bool(rng.random() < 0.5)
            cols["mz"][i] = bool(rng.random() < 0.3)
            cols["cs"][i] = int(rng.integers(3)) if rng.random() < 0.3 else -1
            cols["l"][i] = grow(depth - 1)
            cols["r"][i] = grow(depth - 1)
            return i
        roots.append(grow(4))
        outputs.append(t % n_out)
    return BoostedTreesIR(
        meta=ModelMeta(n_features=N_FEATURES, classes=tuple(range(k)), estimator="synthetic",
                       nan_policy=policy),  # type: ignore[arg-type]
        feature=np.asarray(cols["f"], np.int32), threshold=np.asarray(cols["t"], np.float32),
        left=np.asarray(cols["l"], np.int32), right=np.asarray(cols["r"], np.int32),
        nan_left=np.asarray(cols["n"], bool), roots=np.asarray(roots, np.int32),
        leaf_value=np.asarray(leaves, np.float64), tree_output=np.asarray(outputs, np.int32),
        base=np.float32(rng.normal(size=n_out)).astype(np.float64), accumulate=acc,
        link=link, predict_rule=rule, link_param=0.7 if link == "lgbm_sigmoid" else 1.0,
        missing_zero=np.asarray(cols["mz"], bool), cat_set=np.asarray(cols["cs"], np.int32),
        cat_bits=rng.integers(0, 2**32, size=(3, 2), dtype=np.uint32), cat_rule=cat_rule)


def rows(ir: BoostedTreesIR, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = ir.threshold[np.isfinite(ir.threshold)]
    z = np.float32(ZERO_THRESHOLD)
    vals = np.concatenate([t, np.nextafter(t, np.float32(np.inf)),
                           np.nextafter(t, np.float32(-np.inf)),
                           np.float32([np.nan, np.inf, -np.inf, 0.0, -0.0, z, -z,
                                       np.nextafter(z, np.float32(1)), 1e-45, -0.5, 0.5, 31.0,
                                       63.0, 64.0, 2.0**31, -(2.0**31), 1e10, 7.0, 33.0])])
    return rng.choice(vals.astype(np.float32), size=(3000, N_FEATURES))


@pytest.mark.parametrize("case", list(CASES))
def test_c_equals_reference(case: str) -> None:
    ir = random_ir(7, *CASES[case])
    X = rows(ir, 8)
    native = build(emit(ir, "syn"))
    ref = ir.reference(X)
    np.testing.assert_array_equal(native.predict_index(X), ref.predict)
    assert len(np.unique(ref.predict)) > 1
    if ir.link.startswith(("lgbm", "sk")):  # double links: float32 of the same double
        np.testing.assert_array_equal(native.predict_proba(X), ref.proba.astype(np.float32))


def test_loaders_only_load_and_the_passes_dedup_and_fold() -> None:
    """registry.load_ir is the loader alone (leaves as the library stores them, a Pipeline's
    scalers pending); tinycodegen.lower.load deduplicates the leaves and folds the scalers."""
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from tinycodegen.families.registry import load_ir
    from tinycodegen.lower import load

    rng = np.random.default_rng(5)
    X = (rng.normal(size=(300, 3)) * [1.0, 50.0, 0.1]).astype(np.float32).astype(np.float64)
    y = (X[:, 0] + X[:, 2] * 10 > 0).astype(int) + (X[:, 1] > 30).astype(int)
    gb = GradientBoostingClassifier(n_estimators=8, max_depth=2, learning_rate=1.0,
                                    random_state=0).fit(X, y)
    raw = load_ir(gb)
    coarse = dataclasses.replace(raw, leaf_value=np.round(raw.leaf_value) + 0.0)  # repeats
    low = load(gb), coarse.lowered(load)
    assert low[0].n_leaves == len(np.unique(low[0].leaf_value))
    assert raw.n_leaves > low[1].n_leaves == len(np.unique(coarse.leaf_value))
    assert (coarse.reference(X).proba == low[1].reference(X).proba).all()
    assert (low[0].reference(X).predict == gb.predict(X)).all()
    pipe = make_pipeline(StandardScaler(), GradientBoostingClassifier(
        n_estimators=8, max_depth=2, random_state=0)).fit(X, y)
    pending = load_ir(pipe)
    assert pending.kind == "boosted_trees" and pending.fold is not None
    folded = load(pipe)
    assert folded.fold is None and folded.meta.estimator.startswith("Pipeline(")
    assert (folded.reference(X).predict == pipe.predict(X)).all()
