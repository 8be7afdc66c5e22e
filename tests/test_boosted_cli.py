"""GradientBoosting and HistGradientBoosting through the command line: compile writes the folder
(C compiles with the house flags), check reports 0 mismatches on KDDTest-21 (exit 0), report
measures them on the host; a custom init estimator is one error line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from helpers import STRICT
from tinycodegen.cli import main
from tinycodegen.datasets import nsl_kdd


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """HGB's OpenMP threads only slow it down on a shared 2-core machine."""
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    train = nsl_kdd.load("train")
    X, y = train.X[:4000].astype(np.float64), train.y[:4000]
    Xn = X.copy()
    Xn[::9, 0] = np.nan
    folder = tmp_path_factory.mktemp("boosted")
    fitted = {"gb": GradientBoostingClassifier(n_estimators=8, max_depth=3).fit(X, y),
              "hgb": HistGradientBoostingClassifier(max_iter=8, categorical_features=[1, 2, 3])
              .fit(Xn, y),
              "bad": GradientBoostingClassifier(n_estimators=2, init=LogisticRegression(
                  max_iter=50)).fit(X[:, :5], y)}
    for name, model in fitted.items():
        joblib.dump(model, folder / f"{name}.joblib")
    return {name: folder / f"{name}.joblib" for name in fitted}


@pytest.mark.parametrize("kind", ["gb", "hgb"])
def test_compile_check_report(kind: str, models: dict[str, Path], tmp_path: Path,
                              capsys) -> None:
    out = tmp_path / "c"
    assert main(["compile", str(models[kind]), "-o", str(out), "--name", kind]) == 0
    assert {"tcg_boost.h", "tcg_input.h", "tcg_rom.h", f"{kind}.c", f"{kind}.h"} <= {
        p.name for p in out.iterdir()}
    subprocess.run(["gcc", *STRICT, "-c", f"{kind}.c", "-o", f"{kind}.o"], cwd=out, check=True)
    capsys.readouterr()
    assert main(["check", str(models[kind]), "--data", "nsl-kdd:test21", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["rows"] == 11_850 and report["mismatches"] == 0
    assert report["proba_mismatches"] == 0 and report["reference_mismatches"] == 0
    rep = tmp_path / "rep"
    assert main(["report", str(models[kind]), "--target", "host", "--backends", "table",
                 "--data", "nsl-kdd:test21", "--out", str(rep), "--json"]) == 0
    rows = json.loads((rep / "report.json").read_text())
    text = json.dumps(rows)
    assert '"mismatches": 0' in text and kind in text


def test_custom_init_is_one_error_line(models: dict[str, Path], tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "tinycodegen", "compile", str(models["bad"]),
                           "-o", "unused", "--name", "bad"], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and "Traceback" not in proc.stderr
    assert lines[0].startswith("error: ") and "init=LogisticRegression" in lines[0]
    assert not (tmp_path / "unused").exists()
