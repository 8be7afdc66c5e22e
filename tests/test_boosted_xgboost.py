"""xgboost.XGBClassifier: the loader's lowering, XGBoost's float32 links, and C == XGBoost on
random small models at the split values' float32 neighbours, NaN, +-inf, subnormals and -0.0.

XGBoost's predict_proba is float32 already: the C's probabilities must equal it exactly, and its
predict must equal XGBoost's predict (index into classes_ = arange(n_classes)).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import xgboost as xgb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinycodegen
from tinycodegen.check import check
from tinycodegen.errors import UnsupportedModelError
from tinycodegen.families.boosted.link_xgboost import sigmoid_cut
from tinycodegen.families.registry import load_ir

F32 = np.float32
SPECIAL = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1e-45, -1e-45, 1e-40, -3e-39,
                    np.finfo(F32).max, -np.finfo(F32).max], dtype=F32)


def edge_rows(ir, rng: np.random.Generator, n_rows: int) -> np.ndarray:
    """Rows drawn per feature from its split values (XGBoost's t: the IR holds the float32 just
    below), their neighbours, special values and noise."""
    pools = []
    for f in range(ir.meta.n_features):
        below = ir.threshold[ir.feature == f]
        t = np.nextafter(below, F32(np.inf))
        up = np.nextafter(t, F32(np.inf))
        noise = rng.normal(size=8).astype(F32) * 3
        pools.append(np.concatenate([below, t, up, SPECIAL, noise]).astype(F32))
    X = np.empty((n_rows, ir.meta.n_features), dtype=F32)
    for f, pool in enumerate(pools):
        X[:, f] = rng.choice(pool, size=n_rows)
    return X


@st.composite
def xgb_models(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    nf = draw(st.integers(1, 5))
    k = draw(st.sampled_from([2, 3]))
    n = 200
    X = rng.normal(size=(n, nf)) * draw(st.sampled_from([1e-3, 1.0, 1e4]))
    if draw(st.booleans()):
        X = np.round(X)
    if draw(st.booleans()):
        X[rng.random(X.shape) < 0.15] = np.nan
    y = (np.nan_to_num(X[:, 0]) * 3 + rng.integers(0, k, n)).astype(np.int64) % k
    kw = {"n_estimators": draw(st.integers(1, 12)), "max_depth": draw(st.integers(1, 6)),
          "learning_rate": draw(st.sampled_from([0.05, 0.3, 1.0])), "random_state": seed,
          "n_jobs": 1, "tree_method": draw(st.sampled_from(["hist", "exact", "approx"])),
          "num_parallel_tree": draw(st.sampled_from([1, 1, 2]))}
    if draw(st.booleans()):  # multi:softprob takes it as every class's starting margin
        kw["base_score"] = draw(st.sampled_from([0.1, 0.5, 0.93]))
    return xgb.XGBClassifier(**kw).fit(X.astype(F32), y), rng


def rewritten(fitted, edit):
    """A copy of a fitted XGBClassifier whose booster is reloaded from its own JSON after
    ``edit(trees)`` changed the trees (public Booster API only)."""
    import copy

    doc = json.loads(bytes(fitted.get_booster().save_raw("json")))
    edit(doc["learner"]["gradient_booster"]["model"]["trees"])
    model = copy.deepcopy(fitted)
    model.get_booster().load_model(bytearray(json.dumps(doc).encode()))
    return model


def assert_same(model, compiled, X: np.ndarray) -> None:
    X64 = X.astype(np.float64)
    want_p = model.predict_proba(X64)
    assert want_p.dtype == F32
    got_p = compiled.predict_proba(X)
    bad = np.flatnonzero((got_p != want_p).any(axis=1))
    assert bad.size == 0, (X[bad[:3]], got_p[bad[:3]], want_p[bad[:3]])
    assert np.array_equal(compiled.predict_index(X), model.predict(X64))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=xgb_models())
def test_random_models_match_xgboost(case) -> None:
    model, rng = case
    compiled = tinycodegen.compile(model, name="hyp")
    assert compiled.source.guarantee == "exact"
    X = edge_rows(compiled.ir, rng, 300)
    X[:4] = [[np.inf], [-np.inf], [np.nan], [-0.0]]
    assert_same(model, compiled, X)
    ref = compiled.ir.reference(X)
    assert np.array_equal(ref.predict, model.predict(X.astype(np.float64)))
    report = check(compiled, X)
    assert report.mismatches == 0 and report.proba_mismatches == 0, report.to_text()


def test_margins_at_the_cut() -> None:
    """A stump whose two leaves are rewritten (in XGBoost's own JSON) to margins around the
    p > 0.5 cut: predict and predict_proba of the C equal XGBoost's on both sides."""
    cut = sigmoid_cut()
    X = np.array([[0.0], [1.0]] * 20, dtype=F32)
    stump = xgb.XGBClassifier(n_estimators=1, max_depth=1, base_score=0.5, n_jobs=1)
    stump.fit(X, [0, 1] * 20)
    below = np.nextafter(cut, F32(-1))
    for pair in ((cut, below), (F32(0), -cut), (np.nextafter(cut, F32(1)), F32(1e-45))):
        def edit(trees, pair=pair):
            trees[0]["split_conditions"][1:3] = [float(pair[0]), float(pair[1])]

        model = rewritten(stump, edit)
        margins = model.predict(X[:2], output_margin=True)
        assert set(margins.tolist()) == {float(pair[0]), float(pair[1])}
        compiled = tinycodegen.compile(model, name="cut")
        assert_same(model, compiled, X[:2])
        assert list(model.predict(X[:2])) == [int(v >= cut) for v in margins]


@pytest.mark.parametrize("k, parallel", [(2, 1), (3, 2)])
def test_early_stopping_predicts_with_best_iteration(k: int, parallel: int) -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(400, 3)).astype(F32)
    y = (X[:, 0] + rng.normal(size=400) > 0).astype(int) + (X[:, 1] > 1) * (k - 2)
    model = xgb.XGBClassifier(n_estimators=200, learning_rate=0.5, max_depth=3,
                              early_stopping_rounds=3, random_state=0, n_jobs=1,
                              num_parallel_tree=parallel, subsample=0.8)
    model.fit(X[:300], y[:300], eval_set=[(X[300:], y[300:])], verbose=False)
    assert model.best_iteration + 1 < model.get_booster().num_boosted_rounds()
    ir = load_ir(model)
    assert ir.n_trees == (model.best_iteration + 1) * parallel * (1 if k == 2 else k)
    assert_same(model, tinycodegen.compile(model, name="early"), X)


@pytest.mark.parametrize("k", [2, 3])
def test_dart_weights_as_inplace_predict_applies_them(k: int) -> None:
    """DART: each tree adds float32 ((base + leaf) - base) * weight_drop (inplace predict)."""
    rng = np.random.default_rng(k)
    X = rng.normal(size=(300, 3)).astype(F32)
    X[rng.random(X.shape) < 0.1] = np.nan
    y = (np.nan_to_num(X[:, 0]) * 2 + rng.integers(0, k, 300)).astype(int) % k
    model = xgb.XGBClassifier(booster="dart", n_estimators=12, rate_drop=0.4, skip_drop=0.0,
                              max_depth=3, learning_rate=0.6, random_state=0, n_jobs=1,
                              base_score=0.3 if k == 2 else None).fit(X, y)
    weights = json.loads(bytes(model.get_booster().save_raw("json")))["learner"][
        "gradient_booster"]["weight_drop"]
    assert len(set(weights)) > 1  # dropped trees were rescaled
    compiled = tinycodegen.compile(model, name="dart")
    rows = edge_rows(compiled.ir, rng, 400)
    assert_same(model, compiled, rows)


@pytest.mark.parametrize("kwargs, words", [
    ({"booster": "gblinear"}, "booster gblinear"),
    ({"objective": "multi:softmax"}, "objective multi:softmax"),
    ({"objective": "binary:hinge"}, "objective binary:hinge"),
    ({"objective": "binary:logitraw"}, "objective binary:logitraw"),
    ({"missing": 0.0}, "missing=0.0"),
])
def test_refusals_name_the_reason(kwargs: dict, words: str) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2)).astype(F32)
    y = rng.integers(0, 3 if kwargs.get("objective") == "multi:softmax" else 2, 60)
    model = xgb.XGBClassifier(n_estimators=2, n_jobs=1, **kwargs).fit(X, y)
    with pytest.raises(UnsupportedModelError, match=words):
        load_ir(model)


def test_multi_label_is_refused() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 3)).astype(F32)
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0]).astype(int)
    model = xgb.XGBClassifier(n_estimators=2, n_jobs=1, tree_method="hist").fit(X, Y)
    with pytest.raises(UnsupportedModelError, match="2 targets"):
        load_ir(model)


def test_categorical_splits_are_refused() -> None:
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.integers(0, 4, 80), rng.normal(size=80)]).astype(F32)
    model = xgb.XGBClassifier(n_estimators=2, enable_categorical=True, feature_types=["c", "q"],
                              tree_method="hist", max_cat_to_onehot=1, n_jobs=1)
    model.fit(X, (X[:, 0] > 1).astype(int))
    with pytest.raises(UnsupportedModelError, match="categorical"):
        load_ir(model)


def test_subclass_overriding_predict_is_refused_and_others_do_not_import_xgboost() -> None:
    class Mine(xgb.XGBClassifier):
        def predict(self, X, **kw):  # type: ignore[override]
            return super().predict(X, **kw)

    X = np.array([[0.0], [1.0]] * 5, dtype=F32)
    with pytest.raises(UnsupportedModelError, match="overrides predict"):
        load_ir(Mine(n_estimators=1).fit(X, [0, 1] * 5))
    code = ("import sys, numpy as np; from sklearn.tree import DecisionTreeClassifier;"
            "from tinycodegen.families.registry import load_ir;"
            "load_ir(DecisionTreeClassifier().fit(np.eye(2), [0, 1]));"
            "print('xgboost' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_sigmoid_cut_is_monotone_over_every_float_between_2e_26_and_2e_21(tmp_path) -> None:
    """Outside [2**-26, 2**-21] any expf within 1 ulp decides p > 0.5 alike; inside, this host's
    expf is replayed over every float32 by a C program (XGBoost's Sigmoid, as math.h writes it)."""
    src = tmp_path / "cut.c"
    src.write_text("""#include <math.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
int main(void) {
    float lo = 0x1p-26f, hi = 0x1p-21f, first = -1.0f; long flips = 0; int prev = 0;
    for (float m = lo; m <= hi; m = nextafterf(m, 1.0f)) {
        float x = -m < 88.7f ? -m : 88.7f;
        float denom = expf(x) + 1.0f + 1e-16f;
        int gt = 1.0f / denom > 0.5f;
        if (gt != prev) { flips++; if (gt) first = m; prev = gt; }
    }
    printf("%ld %.9g\\n", flips, (double)first);
    return 0;
}
""")
    exe = tmp_path / "cut"
    subprocess.run(["gcc", "-O1", "-std=c99", "-ffp-contract=off", str(src), "-o", str(exe),
                    "-lm"], check=True)
    flips, first = subprocess.run([str(exe)], capture_output=True, text=True,
                                  check=True).stdout.split()
    assert flips == "1" and F32(float(first)) == sigmoid_cut()


def test_dataframe_columns_by_name() -> None:
    import pandas as pd

    rng = np.random.default_rng(4)
    df = pd.DataFrame(rng.normal(size=(200, 3)).astype(F32), columns=["a", "b", "c"])
    y = (df["b"] > 0).astype(int)
    model = xgb.XGBClassifier(n_estimators=4, max_depth=2, n_jobs=1)
    model.fit(df, y)
    compiled = tinycodegen.compile(model, name="named")
    assert compiled.ir.meta.feature_names == ("a", "b", "c")
    shuffled = df[["c", "a", "b"]]
    assert np.array_equal(compiled.predict(shuffled), model.predict(df))
    assert np.array_equal(compiled.predict_proba(shuffled), model.predict_proba(df))


def test_softmax_near_ties_take_the_probabilities() -> None:
    """3-class models whose leaves are rewritten (every leaf of class k's tree to c_k) so two
    margins tie or sit an ulp or a few apart: predict must take the exact probabilities (the
    expf-free argmax steps aside)."""
    X = np.array([[0.0], [1.0], [2.0]] * 20, dtype=F32)
    fitted = xgb.XGBClassifier(n_estimators=1, max_depth=1, base_score=0.5, n_jobs=1)
    fitted.fit(X, [0, 1, 2] * 20)
    a, up = F32(0.25), np.nextafter(F32(0.25), F32(1))
    cases = [(a, a, F32(0.1)), (a, up, F32(0.1)), (up, a, a), (F32(0.1), a, a - F32(2e-7)),
             (a, a - F32(5e-7), F32(-3.0)), (a, a - F32(1e-6), a - F32(4e-7))]
    for case in cases:
        def edit(trees, case=case):
            for k, tree in enumerate(trees):
                tree["split_conditions"] = [float(case[k]) if lc == -1 else c for c, lc in
                                            zip(tree["split_conditions"],
                                                tree["left_children"], strict=True)]

        model = rewritten(fitted, edit)
        margins = model.predict(X[:1], output_margin=True)[0]
        assert np.array_equal(margins, F32(0.5) + np.array(case, dtype=F32))
        compiled = tinycodegen.compile(model, name="ties")
        assert_same(model, compiled, X[:3])


def test_model_file_without_xgboost_names_the_extra(tmp_path) -> None:
    import joblib

    X = np.array([[0.0], [1.0]] * 5, dtype=F32)
    path = tmp_path / "m.joblib"
    joblib.dump(xgb.XGBClassifier(n_estimators=1, n_jobs=1).fit(X, [0, 1] * 5), path)
    code = ("import sys; sys.modules['xgboost'] = None\n"  # as if xgboost were not installed
            "from tinycodegen.cli import main\n"
            f"sys.exit(main(['compile', {str(path)!r}, '-o', {str(tmp_path / 'out')!r}]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert 'pip install "tinycodegen[boost]"' in out.stderr, out.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("voting", ["soft", "hard"])
def test_voting_member(voting: str) -> None:
    from sklearn.ensemble import RandomForestClassifier, VotingClassifier

    rng = np.random.default_rng(7)
    X = rng.normal(size=(300, 4)).astype(F32)
    X[rng.random(X.shape) < 0.1] = np.nan
    y = (np.nan_to_num(X[:, 0]) * 2 + rng.integers(0, 3, 300)).astype(int) % 3
    vote = VotingClassifier([("xgb", xgb.XGBClassifier(n_estimators=6, max_depth=3, n_jobs=1)),
                             ("rf", RandomForestClassifier(4, max_depth=4, random_state=0))],
                            voting=voting).fit(X, y)
    compiled = tinycodegen.compile(vote, name="vote")
    assert compiled.source.guarantee == "exact"
    rows = edge_rows(load_ir(vote.estimators_[0]), rng, 500)
    report = check(compiled, rows)
    assert report.mismatches == 0, report.to_text()
    assert report.proba_mismatches == (0 if voting == "soft" else None), report.to_text()
