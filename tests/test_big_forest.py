"""A 1,000-tree forest of unbounded depth compiles (no recursion anywhere) and stays exact."""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import RandomForestClassifier

import tinycodegen
from tinycodegen.check import check


def test_thousand_unbounded_trees_compile_and_match() -> None:
    rng = np.random.default_rng(7)
    X = rng.normal(size=(1500, 8)).astype(np.float32)
    y = (X[:, 0] + rng.normal(size=1500) > 0).astype(int) + (X[:, 1] > 1)
    model = RandomForestClassifier(1000, max_depth=None, random_state=0, n_jobs=2).fit(X, y)
    model.set_params(n_jobs=1)  # sklearn's own sum is in tree order only when sequential
    depth = max(e.tree_.max_depth for e in model.estimators_)
    assert depth >= 12
    compiled = tinycodegen.compile(model, name="big", backend="table")
    assert compiled.ir.n_trees == 1000
    Xt = rng.normal(size=(3000, 8)).astype(np.float32)
    report = check(compiled, Xt)
    assert report.mismatches == 0 and report.proba_mismatches == 0, report.to_text()
    inline = tinycodegen.compile(model, name="big_inline", backend="inline")
    assert len(inline.source.files["big_inline.c"]) > 1_000_000  # generated, not built here
