"""Shared test set-up: NSL-KDD from ../shared, a per-session build cache, small helpers."""

from __future__ import annotations

import os
import tempfile

import pytest

from helpers import SHARED_DATA

os.environ.setdefault("TINYCODEGEN_DATA", str(SHARED_DATA))
os.environ.setdefault("TINYCODEGEN_CACHE", tempfile.mkdtemp(prefix="tcg-test-cache-"))



@pytest.fixture(scope="session")
def nsl_train():
    from tinycodegen.datasets import nsl_kdd

    return nsl_kdd.load("train")


@pytest.fixture(scope="session")
def nsl_test():
    from tinycodegen.datasets import nsl_kdd

    return nsl_kdd.load("test")


@pytest.fixture(scope="session")
def nsl_test21():
    from tinycodegen.datasets import nsl_kdd

    return nsl_kdd.load("test21")


@pytest.fixture(scope="session")
def example_forest(nsl_train):
    """The README's example model: 10 trees, depth 8, trained on KDDTrain+."""
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=10, max_depth=8, random_state=0, n_jobs=1).fit(
        nsl_train.X, nsl_train.y
    )
