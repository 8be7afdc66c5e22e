"""``report --quantize``: every layout the quantized kind has (trees: table and speed), rows
labelled with layout and quantization, compared with sklearn and with their own reference; the
goal table judges a quantized row's parity against its reference, never as if it were exact."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.covariance import EllipticEnvelope
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from tinycodegen.cli import main
from tinycodegen.families.registry import native_backends
from tinycodegen.lower import load_quantized
from tinycodegen.report.collect import ReportRow, collect
from tinycodegen.report.goals import judge

HAS_MCU = shutil.which("arm-none-eabi-gcc") is not None and \
    importlib.util.find_spec("unicorn") is not None
TARGETS = ("host", "cortex-m0plus") if HAS_MCU else ("host",)


def _data(n: int = 160, nan: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    X = (rng.normal(size=(n, 5)) * np.array([1.0, 20.0, 0.1, 3.0, 1.0])).astype(np.float32)
    y = (X[:, 0] + 0.1 * X[:, 1] * X[:, 2] > 0).astype(int) + (X[:, 3] > 2).astype(int)
    if nan:
        X[rng.random(X.shape) < 0.05] = np.nan
    return X, y


@pytest.fixture(scope="module")
def forest() -> RandomForestClassifier:
    X, y = _data()  # no NaN: emlearn (the anchor) compares against inf for NaN-trained trees
    return RandomForestClassifier(4, max_depth=5, random_state=0).fit(X.astype(np.float64), y)


def test_cli_report_measures_every_layout_of_the_quantized_kind(forest, tmp_path: Path,
                                                                 capsys) -> None:
    X, _ = _data()
    np.save(tmp_path / "rows.npy", X)
    joblib.dump(forest, tmp_path / "rf.joblib")
    out = tmp_path / "rep"
    assert main(["report", str(tmp_path / "rf.joblib"), "--quantize", "int8",
                 "--target", ",".join(TARGETS), "--backends", "table,speed,size,inline,emlearn",
                 "--data", str(tmp_path / "rows.npy"), "--budget", "0", "--out", str(out)]) == 0
    capsys.readouterr()
    rep = json.loads((out / "report.json").read_text())
    assert rep["meta"]["quantize"] == "int8"
    rows = [ReportRow(**r) for r in rep["rows"]]
    qkind = load_quantized(forest, "int8").kind
    layouts = [b for b in ("table", "speed", "size", "inline") if b in native_backends(qkind)]
    assert layouts == ["table", "speed"]  # the quantized trees: no size or inline layout
    assert [(r.build, r.target) for r in rows] == [
        (b, t) for b in ("table int8", "speed int8", "emlearn") for t in TARGETS]
    for r in rows:
        assert r.measured_rows == len(X) and r.emulator_agrees is True and r.note is None
        assert r.mismatches is not None  # against sklearn, for every build
        if r.quantize:
            assert r.quantize == "int8" and r.reference_mismatches == 0
        else:
            assert r.reference_mismatches is None
    by = {(r.build, r.target): r for r in rows}
    assert by[("speed int8", "host")].ns_per_inference is not None
    assert by[("speed int8", "host")].instr_mean < by[("table int8", "host")].instr_mean
    if HAS_MCU:
        m0 = by[("speed int8", "cortex-m0plus")]
        assert m0.flash_bytes and m0.cycles_mean and m0.cycles_mean > 0
    goals = {(g["backend"], g["target"], g["goal"]): g for g in rep["goals"]}
    for t in TARGETS:
        assert ("table int8", t, "0 mismatches") not in goals
        assert goals[("table int8", t, "0 mismatches vs its reference")]["met"] is True
    if HAS_MCU:
        assert goals[("speed int8", "cortex-m0plus", "0 mismatches vs its reference")]["met"]
        assert ("speed int8", "cortex-m0plus", "mean cycles <= 0.35x emlearn") in goals
    md = (out / "report.md").read_text()
    assert "| reference_mismatches |" in md and "| speed int8 | host |" in md


def test_int16_rows_calibration_and_a_refused_kind_in_one_collect() -> None:
    X, y = _data(120, nan=True)  # NaN in training and in the rows measured
    rf = RandomForestClassifier(3, max_depth=4, random_state=1).fit(X.astype(np.float64), y)
    X0 = np.nan_to_num(X)
    lr = LogisticRegression(max_iter=500).fit(X0.astype(np.float64), y)
    env = EllipticEnvelope(random_state=0).fit(X0.astype(np.float64))
    rows = collect([("rf", rf), ("lr", lr), ("env", env)], X, targets=("host",),
                   backends=("table", "speed", "size"), quantize="int16", budget=None,
                   calibration={"lr": X0})
    assert [(r.model, r.build) for r in rows] == [
        ("rf", "table int16"), ("rf", "speed int16"), ("lr", "table int16"),
        ("env", "table int16")]
    assert all(r.reference_mismatches == 0 and r.note is None for r in rows[:3])
    note = rows[3].note or ""
    assert note.startswith("n/a: ") and "\n" not in note
    assert "not available for EllipticEnvelope" in note


def _row(backend: str, quantize: str | None, mm: int, ref: int | None) -> ReportRow:
    return ReportRow(model="m", estimator="X", backend=backend, target="cortex-m4f",
                     mismatches=mm, reference_mismatches=ref, quantize=quantize,
                     flash_bytes=900, cycles_mean=500.0, emulator_agrees=True)


def test_goals_judge_a_quantized_row_against_its_reference() -> None:
    rows = [_row("speed", "int8", 7, 0), _row("table", "int8", 7, 1), _row("speed", None, 2, None),
            ReportRow(model="m", estimator="X", backend="emlearn", target="cortex-m4f",
                      mismatches=3, flash_bytes=1000, cycles_mean=1000.0)]
    goals = {(g.backend, g.goal): g for g in judge(rows)}
    assert goals[("speed int8", "0 mismatches vs its reference")].met is True
    missed = goals[("table int8", "0 mismatches vs its reference")]
    assert missed.met is False and missed.status() == "MISSED by 1 mismatches vs its reference"
    assert goals[("speed", "0 mismatches")].status() == "MISSED by 2 mismatches vs sklearn"
    assert goals[("speed int8", "mean cycles <= 0.8x emlearn")].ratio == pytest.approx(0.5)
    assert goals[("speed", "mean cycles <= 0.8x emlearn")].ratio == pytest.approx(0.5)
    assert not any(b.endswith("int8") and g == "0 mismatches" for b, g in goals)
