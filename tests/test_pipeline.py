"""Pipelines: scalers / encoders / ColumnTransformer in front of trees and linear models.

C == sklearn (predict, predict_proba to float32, and the IR reference) over random pipelines
with inputs at and around every folded threshold, NaN / inf rows and unseen categories.
Threshold folding: test_fold_thresholds.py; NSL-KDD, the C API and errors: test_pipeline_nsl.py.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    MaxAbsScaler,
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    StandardScaler,
)
from sklearn.tree import DecisionTreeClassifier

import tinycodegen
from tinycodegen.check import check
from tinycodegen.data import model_input, sklearn_input
from tinycodegen.families.pipeline.fold import FLT_MAX
from tinycodegen.families.pipeline.ir import PipelineTreeIR
from tinycodegen.families.trees.ir import TreeEnsembleIR

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
@st.composite
def pipelines(draw, final: str):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    n, n_num, n_cat = 240, draw(st.integers(1, 4)), draw(st.integers(0, 2))
    frame = draw(st.booleans()) or n_cat == 0
    nan_train = final == "tree" and draw(st.booleans())  # learned NaN routes (dense z only)
    cols: dict[str, np.ndarray] = {}
    for i in range(n_num):
        scale = draw(st.sampled_from([1e-3, 1.0, 1e5]))
        v = draw(st.sampled_from([-50.0, 0.0, 1e4])) + rng.normal(size=n) * scale
        if draw(st.booleans()):
            v = np.round(v)
        if nan_train:
            v[rng.random(n) < 0.1] = np.nan
        cols[f"num {i}"] = v.astype(np.float32).astype(np.float64)
    for i in range(n_cat):
        k = draw(st.integers(2, 6))
        names = [f"c{i}-{j}" for j in range(k)] if frame else [10.0 * j + 0.5 for j in range(k)]
        p = rng.dirichlet(np.ones(k) * 0.7)
        cols[f"cat {i}"] = rng.choice(np.asarray(names, dtype=object), size=n, p=p)
    order = [str(c) for c in rng.permutation(list(cols))]
    df = pd.DataFrame({c: cols[c] for c in order})
    y = ((np.nan_to_num(df[order[0]].to_numpy(np.float64)) if order[0].startswith("num")
          else pd.factorize(df[order[0]])[0]) * 7 + rng.integers(0, 3, n)).astype(int) % 3
    y = np.where(y == 2, 1, y) if draw(st.booleans()) else y
    parts = []

    def spec(names: list[str]) -> list:
        return names if frame else [order.index(c) for c in names]

    nums = [c for c in order if c.startswith("num")]
    groups = [nums[i::2] for i in range(2)]
    for gi, group in enumerate(groups):
        if group:
            parts.append((f"num{gi}", draw(scalers()), spec(group)))
    for c in [c for c in order if c.startswith("cat")]:
        parts.append((c.replace(" ", ""), draw(encoders(final)), spec([c])))
    if draw(st.booleans()) and len(parts) > 1:
        parts.pop(0)  # leave a group to the remainder
    if all(isinstance(t, str) and t == "drop" for _, t, _ in parts):
        parts[0] = (parts[0][0], "passthrough", parts[0][2])
    ct = ColumnTransformer(parts, remainder=draw(st.sampled_from(["drop", "passthrough"])),
                           sparse_threshold=0.0 if nan_train else
                           draw(st.sampled_from([0.0, 0.3, 1.0])))
    steps = [("ct", ct)]
    if draw(st.booleans()):
        steps.append(("post", draw(st.sampled_from([MaxAbsScaler(),
                                                    StandardScaler(with_mean=False)]))))
    if final == "tree":
        est = (DecisionTreeClassifier(max_depth=draw(st.integers(2, 7)), random_state=seed)
               if draw(st.booleans()) else
               RandomForestClassifier(3, max_depth=5, random_state=seed, n_jobs=1))
    else:
        est = LogisticRegression(C=draw(st.sampled_from([0.1, 10.0])), max_iter=300)
    X_fit = df if frame else df.to_numpy(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = Pipeline([*steps, ("est", est)]).fit(X_fit, y)
        except ValueError as exc:  # the drawn column choices left no feature at all
            assume("0 feature" not in str(exc))
            raise
    return model, X_fit, rng


@st.composite
def scalers(draw):
    kind = draw(st.sampled_from(["minmax", "standard", "maxabs", "passthrough", "drop",
                                 "nested"]))
    if kind == "minmax":
        lo = draw(st.sampled_from([0.0, -1.0, 3.5]))
        return MinMaxScaler((lo, lo + draw(st.sampled_from([1.0, 1e-3, 7.0]))),
                            clip=draw(st.booleans()))
    if kind == "standard":
        return StandardScaler(with_mean=draw(st.booleans()), with_std=draw(st.booleans()))
    if kind == "maxabs":  # clip=: scikit-learn 1.8 on (1.4 to 1.7 have none)
        clip = draw(st.booleans()) if "clip" in MaxAbsScaler().get_params() else False
        return MaxAbsScaler(clip=True) if clip else MaxAbsScaler()
    if kind == "nested":
        return Pipeline([("s", StandardScaler()), ("m", MinMaxScaler(clip=draw(st.booleans())))])
    return kind


@st.composite
def encoders(draw, final: str):
    kind = draw(st.sampled_from(["onehot", "ordinal", "onehot+scale"]))
    if kind == "ordinal":
        unknown = draw(st.sampled_from(["error", -1, np.nan] if final == "tree" else
                                       ["error", -1]))
        if unknown == "error":
            return OrdinalEncoder()
        return OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=unknown)
    handle = draw(st.sampled_from(["ignore", "error", "infrequent_if_exist"]))
    enc = OneHotEncoder(handle_unknown=handle, drop=draw(st.sampled_from([None, "first"])),
                        min_frequency=draw(st.sampled_from([None, 20])),
                        sparse_output=draw(st.booleans()))
    if kind == "onehot":
        return enc
    return Pipeline([("oh", enc), ("sc", MaxAbsScaler())])


def probe_rows(model, X_fit, compiled, rng: np.random.Generator) -> np.ndarray:
    """Training rows, rows at and next to every folded threshold, NaN/inf, unseen categories."""
    X = model_input(model, X_fit)
    base = X[rng.integers(0, len(X), 64)]
    ir = compiled.ir
    rows = [X[:80], base]
    core = ir.core if isinstance(ir, PipelineTreeIR) else ir
    raw = ir.raw_src if isinstance(ir, PipelineTreeIR) else np.arange(ir.meta.n_features)
    if isinstance(core, TreeEnsembleIR):
        for node in range(core.n_nodes):
            f = int(core.feature[node])
            if f < len(raw):
                t = core.threshold[node]
                for v in (t, np.nextafter(t, np.float32(np.inf)),
                          np.nextafter(t, np.float32(-np.inf))):
                    r = base[node % len(base)].copy()
                    r[raw[f]] = v
                    rows.append(r[None])
    cats = [c.index for c in getattr(getattr(ir, "prep", None) or getattr(ir, "transform", None),
                                     "categorical", ())]
    num = [j for j in range(X.shape[1]) if j not in cats]
    for j in num:
        for v in (np.nan, np.inf, -np.inf, FLT_MAX, -FLT_MAX, 0.0, -0.0):
            r = base[j % len(base)].copy()
            r[j] = v
            rows.append(r[None])
    for j in cats:
        r = base[:2].copy()
        r[:, j] = -1.0
        rows.append(r)
    return np.concatenate(rows).astype(np.float32)


def assert_parity(model, X_fit, rng, optimize: str | None = None) -> None:
    compiled = tinycodegen.compile(model, name="pipe", optimize=optimize)
    X = probe_rows(model, X_fit, compiled, rng)
    report = check(compiled, X, X_sklearn=sklearn_input(model, X))
    assert report.mismatches == 0, report.to_text()
    assert report.proba_mismatches == 0, report.to_text()
    assert report.reference_mismatches == 0, report.to_text()
    assert (compiled.predict_index(X) >= 0).any()


@settings(max_examples=9, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=pipelines("tree"))
def test_random_pipelines_before_trees_match_sklearn(case) -> None:
    assert_parity(*case)


@pytest.mark.parametrize("optimize", ["speed", "size"])
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=pipelines("tree"))
def test_random_pipelines_before_tree_layouts_match_sklearn(optimize: str, case) -> None:
    assert_parity(*case, optimize=optimize)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=pipelines("linear"))
def test_random_pipelines_before_logistic_regression_match_sklearn(case) -> None:
    assert_parity(*case)


@pytest.mark.parametrize("final", ["tree", "linear"])
def test_sparse_output_missing_category_and_scaling_after_encoding(final: str) -> None:
    """Sparse ColumnTransformer output (MaxAbsScaler then multiplies by 1 / scale, as sklearn
    does on sparse input; trees reject NaN there), NaN as a fitted category, an unseen one."""
    rng = np.random.default_rng(3)
    n = 300
    kinds = np.array(["a", "b", "c", np.nan], dtype=object)
    df = pd.DataFrame({"x": (rng.normal(size=n) * 1e3).astype(np.float32).astype(np.float64),
                       "kind": rng.choice(kinds, n), "w": rng.exponential(size=n)})
    y = ((df["x"] > 0) ^ (df["kind"] == "b")).to_numpy().astype(int)
    ct = ColumnTransformer([("oh", OneHotEncoder(handle_unknown="ignore"), ["kind"]),
                            ("s", StandardScaler(with_mean=False), ["x"])],
                           remainder="passthrough", sparse_threshold=1.0)
    est = DecisionTreeClassifier(random_state=0) if final == "tree" else LogisticRegression()
    model = Pipeline([("ct", ct), ("abs", MaxAbsScaler()), ("est", est)]).fit(df, y)
    assert model[0].sparse_output_
    compiled = tinycodegen.compile(model, name="sparse")
    transform = compiled.ir.prep if final == "tree" else compiled.ir.transform
    assert transform.sparse_output and compiled.ir.meta.nan_policy == "reject"
    assert transform.categorical[0].labels[-1] == "nan"
    X = probe_rows(model, df, compiled, rng)
    report = check(compiled, X, X_sklearn=sklearn_input(model, X))
    assert report.mismatches == 0 and report.proba_mismatches == 0, report.to_text()
    assert report.reference_mismatches == 0 and report.rejected_rows > 0
