"""The study on a small subsample: the report's files exist and its numbers are the C's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import tinycodegen
from tinycodegen.study.metrics import binary_metrics
from tinycodegen.study.models import SPECS
from tinycodegen.study.run import c_outputs, load_splits, run_study, train_cached


def test_study_subsample_report(tmp_path: Path) -> None:
    out = tmp_path / "study"
    results = run_study(out, limit=1500, measure_rows=40, targets=("cortex-m4f",),
                        only=("RF", "LR", "Tiny RF"))
    assert [r.spec.name for r in results] == ["RF", "LR", "Tiny RF"]
    for name in ("report.md", "results.json", "metrics_bars.png", "confusion_matrices.png",
                 "roc_kddtest.png", "flash_vs_cycles_cortex-m4f.png"):
        assert (out / name).is_file(), name
    data = json.loads((out / "results.json").read_text())
    by_name = {m["name"]: m for m in data["models"]}
    for m in by_name.values():
        assert m["error"] is None, m["error"]
        assert set(m["metrics_c"]) == {"KDDTest+", "KDDTest-21", "KDDTrain+ 20% (random split)"}
        assert m["targets"]["cortex-m4f"]["agrees_with_host"] is True
        assert m["targets"]["cortex-m4f"]["flash"] > 0
    assert by_name["RF"]["parity"]["mismatches"] == 0
    assert by_name["LR"]["parity"]["mismatches"] == 0
    assert by_name["Tiny RF"]["parity"]["reference_mismatches"] == 0
    assert by_name["Tiny RF"]["optimize"] == "speed" and by_name["RF"]["optimize"] is None
    # the numbers are the compiled C's: recompute them from the same (cached) model
    full, _, evals = load_splits(0, 1500)
    spec = next(s for s in SPECS if s.name == "RF")
    model, _ = train_cached(spec, full, 0)
    compiled = tinycodegen.compile(model, name="again")
    test = evals["KDDTest+"]
    pred, score = c_outputs(compiled, test.X)
    again = binary_metrics(test.y, pred, score)
    assert again == by_name["RF"]["metrics_c"]["KDDTest+"]
    report = (out / "report.md").read_text()
    assert f"{again['accuracy']:.4f}" in report
    assert "int8 bins and 8-bit leaves; --optimize speed" in report  # the layout, in notes
    assert np.isclose(by_name["RF"]["metrics_sklearn"]["KDDTest+"]["accuracy"], again["accuracy"])


def test_study_boosted_rows_and_m2cgen(tmp_path: Path) -> None:
    """Boosted tiny rows: the int8 C equals its own reference; the m2cgen table holds m2cgen's
    figures where it converts the model (LightGBM) and its one-line reason where it cannot
    (XGBoost 3)."""
    out = tmp_path / "study"
    results = run_study(out, limit=1500, measure_rows=40, targets=("cortex-m4f",),
                        only=("Tiny XGB", "Tiny LGBM"))
    assert [r.spec.name for r in results] == ["Tiny XGB", "Tiny LGBM"]
    data = json.loads((out / "results.json").read_text())
    by_name = {m["name"]: m for m in data["models"]}
    for m in by_name.values():
        assert m["error"] is None, m["error"]
        assert m["quantize"] == "int8" and m["parity"]["reference_mismatches"] == 0
        assert m["targets"]["cortex-m4f"]["agrees_with_host"] is True
    assert "get_params()['base_score']" in by_name["Tiny XGB"]["m2cgen"]["error"]
    m2c = by_name["Tiny LGBM"]["m2cgen"]
    assert m2c["parity"]["backend"] == "m2cgen" and m2c["parity"]["rows"] == 1500
    assert m2c["targets"]["cortex-m4f"]["flash"] > 0
    assert m2c["targets"]["cortex-m4f"]["agrees_with_host"] is True
    report = (out / "report.md").read_text()
    assert "## Boosted trees against m2cgen" in report
    assert f"| Tiny LGBM | m2cgen | {m2c['parity']['mismatches']:,} of 1,500 |" in report


def test_study_without_xgboost_says_which_extra(tmp_path: Path, monkeypatch) -> None:
    """Without xgboost its rows are one clear line naming the extra; the other rows run."""
    import sys

    monkeypatch.setitem(sys.modules, "xgboost", None)  # import xgboost -> ImportError
    results = run_study(tmp_path / "s", limit=300, targets=(), only=("Tiny XGB", "Tiny LGBM"))
    assert results[0].error == 'xgboost is not installed: pip install -e ".[boost]"'
    assert results[1].error is None and results[1].parity["reference_mismatches"] == 0
    assert "xgboost is not installed" in (tmp_path / "s" / "report.md").read_text()
