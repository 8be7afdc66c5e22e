"""Every generated .c compiles as C++11 (firmware projects, Arduino, compile C sources as C++)
and links into a C++ program that agrees with the C: one model of every kind, the C flags that
exist in C++ and -Werror (the comparison backends' third-party C without warnings, as in C)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    StackingClassifier,
    VotingClassifier,
)
from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeClassifier

import tinycodegen
from helpers import fit_quietly

CXX = shutil.which("g++") or "g++"
CXXFLAGS = ["-std=c++11", "-x", "c++", "-Wall", "-Wextra", "-Wpedantic", "-Wconversion",
            "-Wdouble-promotion", "-Werror"]
# third-party C (the emlearn / m2cgen comparison backends) is built without warnings, as in C
LAX = ["-std=c++11", "-x", "c++", "-w"]

MAIN = """\
#include <cstdio>
#include "{name}.h"
int main() {{
    float x[{name_u}_N_FEATURES] = {{0}};
    float p[{name_u}_N_CLASSES];
    {name}_predict_proba(x, p);
    std::printf("%d %g\\n", static_cast<int>({name}_predict(x)), static_cast<double>(p[0]));
    return 0;
}}
"""


def data(k: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5)).astype(np.float32).astype(np.float64)
    y = np.argmax(X[:, :k] + rng.normal(size=(300, k)) * 0.7, axis=1)
    return X, y


def scaled(est):
    return make_pipeline(MinMaxScaler(), est)


def rf():
    return RandomForestClassifier(3, max_depth=4, random_state=0)


def svc(kernel: str = "rbf", proba: bool = False):
    return scaled(SVC(kernel=kernel, probability=proba, random_state=0))


def mlp():
    return scaled(MLPClassifier((6,), max_iter=300, random_state=0))


def vote(voting: str):
    return VotingClassifier([("lr", scaled(LogisticRegression())), ("rf", rf())], voting=voting)


def column_pipeline():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200),
                       "kind": rng.choice(["tcp", "udp", "icmp"], size=200)})
    y = (df["a"] + (df["kind"] == "tcp") > 0.3).astype(int)
    ct = ColumnTransformer([("num", StandardScaler(), ["a", "b"]),
                            ("cat", OneHotEncoder(handle_unknown="ignore"), ["kind"])])
    return Pipeline([("ct", ct), ("lr", LogisticRegression())]).fit(df, y)


def hgb_categorical():
    X, y = data(3)
    X[:, 4] = np.round(np.abs(X[:, 4]) * 3)
    X[::7, 0] = np.nan
    return HistGradientBoostingClassifier(max_iter=3, categorical_features=[4]).fit(X, y)


# name -> (fitted model factory, backend, quantize)
CASES: dict[str, tuple[Callable[[], object], str, str | None]] = {
    "trees table": (lambda: rf().fit(*data(3)), "table", None),
    "trees inline": (lambda: ExtraTreesClassifier(3, max_depth=4, random_state=0)
                     .fit(*data()), "inline", None),
    "tree int8": (lambda: DecisionTreeClassifier(max_depth=4).fit(*data(3)), "table", "int8"),
    "gb": (lambda: GradientBoostingClassifier(n_estimators=3, max_depth=2).fit(*data()),
           "table", None),
    "hgb categorical": (hgb_categorical, "table", None),
    "lr": (lambda: scaled(LogisticRegression()).fit(*data(3)), "table", None),
    "linearsvc": (lambda: fit_quietly(LinearSVC(), *data()), "table", None),
    "sgd": (lambda: SGDClassifier(random_state=0).fit(*data(3)), "table", None),
    "ridge": (lambda: RidgeClassifier().fit(*data()), "table", None),
    "mlp": (lambda: fit_quietly(mlp(), *data(3)), "table", None),
    "lr int8": (lambda: scaled(LogisticRegression()).fit(*data()), "table", "int8"),
    "mlp int16": (lambda: fit_quietly(mlp(), *data()), "table", "int16"),
    "svc rbf proba": (lambda: svc("rbf", True).fit(*data()), "table", None),
    "svc linear 3 classes": (lambda: svc("linear").fit(*data(3)), "table", None),
    "svc poly": (lambda: svc("poly").fit(*data()), "table", None),
    "svc sigmoid": (lambda: svc("sigmoid").fit(*data()), "table", None),
    "svc rbf int8": (lambda: svc("rbf", True).fit(*data()), "table", "int8"),
    "vote soft": (lambda: vote("soft").fit(*data()), "table", None),
    "vote hard": (lambda: vote("hard").fit(*data(3)), "table", None),
    "stacking": (lambda: StackingClassifier([("rf", rf()), ("lr", scaled(
        LogisticRegression()))], cv=2).fit(*data()), "table", None),
    "vote soft int8": (lambda: vote("soft").fit(*data()), "table", "int8"),
    "hgb int8": (lambda: HistGradientBoostingClassifier(max_iter=5, random_state=0)
                 .fit(*data()), "table", "int8"),
    "gb 3 classes int16": (lambda: GradientBoostingClassifier(n_estimators=4, random_state=0)
                           .fit(*data(3)), "table", "int16"),
    "pipeline columns": (column_pipeline, "table", None),
    "rf emlearn": (lambda: rf().fit(*data()), "emlearn", None),
    "rf m2cgen": (lambda: rf().fit(*data(3)), "m2cgen", None),
    "lr m2cgen": (lambda: scaled(LogisticRegression()).fit(*data()), "m2cgen", None),
}


@pytest.mark.parametrize("case", list(CASES))
def test_generated_c_compiles_and_links_as_cxx11(case: str, tmp_path: Path) -> None:
    factory, backend, quantize = CASES[case]
    name = "m_" + "".join(c if c.isalnum() else "_" for c in case)
    model = factory()
    compiled = tinycodegen.compile(model, name=name, backend=backend, quantize=quantize)
    compiled.write(tmp_path)
    (tmp_path / "main.cpp").write_text(MAIN.format(name=name, name_u=name.upper()))
    sources = sorted(p.name for p in tmp_path.glob("*.c"))
    assert f"{name}.c" in sources
    flags = CXXFLAGS if compiled.source.strict else LAX
    cmd = [CXX, *flags, *sources, "-x", "none", "main.cpp", "-o", "prog", "-lm"]
    res = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-4000:]
    run = subprocess.run([str(tmp_path / "prog")], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0
    zero = np.zeros((1, int(model.n_features_in_)), dtype=np.float32)
    assert int(run.stdout.split()[0]) == int(compiled.predict_index(zero)[0])
