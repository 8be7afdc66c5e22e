"""Estimators are recognised by their real class, not by their class name: look-alikes and
subclasses that override a prediction method are one clear error, at the top level and inside
Pipelines, ColumnTransformers and Voting / Stacking ensembles."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier, StackingClassifier, VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

import tinycodegen
from tinycodegen.errors import UnsupportedModelError

rng = np.random.default_rng(0)
X = rng.normal(size=(120, 4))
y = (X[:, 0] + X[:, 1] > 0).astype(int)


class PlainLR(LogisticRegression):
    """Overrides nothing that predicts: compiles as LogisticRegression."""

    def describe(self) -> str:
        return "mine"


def overriding(base: type, method: str) -> type:
    def fn(self, *args, **kwargs):
        return getattr(super(cls, self), method)(*args, **kwargs)

    cls = type(f"My{base.__name__}", (base,), {method: fn, "__module__": __name__})
    return cls


def test_look_alike_class_names_are_refused() -> None:
    class RandomForestClassifier:  # noqa: N801 - the point of the test
        classes_ = np.array([0, 1])
        n_features_in_ = 4

        def predict(self, X):
            return np.zeros(len(X), dtype=int)

    with pytest.raises(UnsupportedModelError, match=r"RandomForestClassifier \(test_real_class"
                       r"\..*\) is not a scikit-learn estimator"):
        tinycodegen.compile(RandomForestClassifier())
    # a look-alike that claims to live in sklearn's own module is not sklearn's class either
    fake = type("RandomForestClassifier", (ClassifierMixin, BaseEstimator),
                {"__module__": "sklearn.ensemble._forest", "classes_": np.array([0, 1])})
    with pytest.raises(UnsupportedModelError, match="is not a scikit-learn estimator"):
        tinycodegen.compile(fake())


@pytest.mark.parametrize("method", ["predict", "predict_proba", "decision_function",
                                    "predict_log_proba"])
def test_subclasses_overriding_prediction_are_refused(method: str) -> None:
    model = overriding(LogisticRegression, method)().fit(X, y)
    with pytest.raises(UnsupportedModelError,
                       match=f"MyLogisticRegression .* overrides {method} of scikit-learn's "
                             f"LogisticRegression"):
        tinycodegen.compile(model)


def test_subclass_overriding_nothing_relevant_compiles_as_its_base() -> None:
    model = PlainLR().fit(X, y)
    compiled = tinycodegen.compile(model, name="plain")
    P = rng.normal(size=(200, 4)).astype(np.float32)
    np.testing.assert_array_equal(compiled.predict(P), model.predict(P.astype(np.float64)))
    np.testing.assert_array_equal(compiled.predict_proba(P),
                                  model.predict_proba(P.astype(np.float64)).astype(np.float32))


@pytest.mark.parametrize("where", ["pipeline step", "column transformer", "nested pipeline",
                                   "pipeline itself", "voting member", "stacking final"])
def test_nested_overrides_are_refused(where: str) -> None:
    Scaler = overriding(MinMaxScaler, "transform")
    LR = overriding(LogisticRegression, "predict_proba")
    rf = RandomForestClassifier(3, max_depth=3, random_state=0)
    model, method, cls = {
        "pipeline step": (lambda: Pipeline([("sc", Scaler()), ("lr", LogisticRegression())]),
                          "transform", "MyMinMaxScaler"),
        "column transformer": (lambda: make_pipeline(ColumnTransformer(
            [("a", StandardScaler(), [0, 1]), ("b", Scaler(), [2, 3])]), LogisticRegression()),
            "transform", "MyMinMaxScaler"),
        "nested pipeline": (lambda: Pipeline([("sc", StandardScaler()), ("inner", make_pipeline(
            MinMaxScaler(), LR()))]), "predict_proba", "MyLogisticRegression"),
        "pipeline itself": (lambda: overriding(Pipeline, "predict")(
            [("sc", MinMaxScaler()), ("lr", LogisticRegression())]), "predict", "MyPipeline"),
        "voting member": (lambda: VotingClassifier([("rf", rf), ("lr", LR())], voting="soft"),
                          "predict_proba", "MyLogisticRegression"),
        "stacking final": (lambda: StackingClassifier([("rf", rf)], final_estimator=LR(), cv=2),
                           "predict_proba", "MyLogisticRegression"),
    }[where]
    fitted = model().fit(X, y)
    with pytest.raises(UnsupportedModelError, match=f"{cls} .* overrides {method} of"):
        tinycodegen.compile(fitted)


def test_cli_gives_one_line_for_a_look_alike(tmp_path: Path) -> None:
    (tmp_path / "lookalike.py").write_text(textwrap.dedent("""
        from sklearn.base import BaseEstimator, ClassifierMixin


        class RandomForestClassifier(ClassifierMixin, BaseEstimator):
            def fit(self, X, y):
                self.classes_ = sorted(set(y))
                self.n_features_in_ = len(X[0])
                return self

            def predict(self, X):
                return [0] * len(X)
    """))
    script = ("import joblib, lookalike; m = lookalike.RandomForestClassifier(); "
              f"joblib.dump(m.fit([[0.0], [1.0]], [0, 1]), {str(tmp_path / 'm.joblib')!r})")
    env = {"PYTHONPATH": f"{tmp_path}:{':'.join(sys.path)}", "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, cwd=tmp_path)
    proc = subprocess.run([sys.executable, "-m", "tinycodegen", "compile",
                           str(tmp_path / "m.joblib"), "-o", str(tmp_path / "out")],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "lookalike.RandomForestClassifier" in lines[0]
    assert not (tmp_path / "out").exists()
