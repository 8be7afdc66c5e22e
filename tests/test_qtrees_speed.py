"""The speed layout of quantized forests (--quantize int8|int16 --optimize speed): splits as
code over the quantized DAG. Bit-exact to the integer reference and to the table walk (every
strategy) on NaN, +-inf, -0.0, subnormals and each threshold's float32 neighbours; strict C99
under gcc / clang / arm-none-eabi-gcc and C++11; the study's Tiny RF shape on NSL-KDD with 0
reference mismatches, on the Cortex-M0+ emulator and on the Uno (simavr) equal to the host."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.ensemble import RandomForestClassifier, VotingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

import tinycodegen
from helpers import STRICT, sanitized_outputs
from test_qtrees import clang_strict, forests, probe_rows
from tinycodegen.api import write_files
from tinycodegen.build import build
from tinycodegen.cli import main
from tinycodegen.families.trees.emit_qcold import plan
from tinycodegen.families.trees.emit_qspeed import emit_qtree_speed, walk_view
from tinycodegen.families.trees.emit_quantized import emit_qtree_table
from tinycodegen.targets import measure

CXX = ["g++", "-std=c++11", "-x", "c++", *STRICT[1:]]


@settings(max_examples=16, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(case=forests(), cold=st.sampled_from([-1.0, 0.5, 3.0, 1e9]))
def test_speed_walk_equals_table_walk_and_reference(case, cold: float, tmp_path: Path) -> None:
    """All code (cold -1), code above the records (cold: expected record visits per row; 1e9:
    every split a record, the roots walked from the code) and the table walk agree."""
    model, mode, strategy, rng = case
    q = tinycodegen.compile(model, name="hs", quantize=mode).ir
    speed = emit_qtree_speed(q, "hs", cold_visits=cold, min_nodes=0)
    assert speed.backend == "speed" and speed.guarantee == "reference"
    records = plan(q, cold, 0) if walk_view(q).raw_bits_ok else None
    assert ("hs_node[" in speed.files["hs.c"]) == (records is not None)
    if cold > 1e8 and records is not None:
        assert not records.hot
    X = probe_rows(q, rng, 400)
    ref = q.reference(X)
    fast, table = build(speed), build(emit_qtree_table(q, "hs", strategy))
    np.testing.assert_array_equal(fast.predict_index(X), ref.predict)
    np.testing.assert_array_equal(fast.predict_index(X), table.predict_index(X))
    proba = fast.predict_proba(X)
    np.testing.assert_array_equal(proba.view(np.uint32),
                                  ref.proba.astype(np.float32).view(np.uint32))
    np.testing.assert_array_equal(proba.view(np.uint32), table.predict_proba(X).view(np.uint32))
    clang_strict(speed, tmp_path / f"c{rng.integers(1 << 30)}")


def test_child_weights_follow_the_dag(example_forest) -> None:
    """Each quantized split carries the training weight of the float splits it stands for."""
    q = tinycodegen.compile(example_forest, name="w", quantize="int8").ir
    src = tinycodegen.compile(example_forest, name="w").ir
    assert q.child_weight is not None and q.child_weight.shape == (q.n_nodes, 2)
    assert (q.child_weight > 0).all()
    # every root's weight is its tree's training weight (roots are never shared or pruned here)
    for t in range(q.n_trees):
        assert q.child_weight[q.roots[t]].sum() == src.child_weight[src.roots[t]].sum()


@pytest.fixture(scope="module")
def tiny_rf(nsl_train):
    """The study's Tiny RF shape: MinMax + 5 trees of depth 6 (raw float bits compared)."""
    return Pipeline([("s", MinMaxScaler()), ("m", RandomForestClassifier(
        5, max_depth=6, random_state=0, n_jobs=1))]).fit(nsl_train.X, nsl_train.y)


def test_nsl_kdd_tiny_forest(tiny_rf, nsl_test, tmp_path: Path) -> None:
    from tinycodegen.check import check

    for mode in ("int8", "int16"):
        fast = tinycodegen.compile(tiny_rf, name="tiny", quantize=mode, optimize="speed")
        table = tinycodegen.compile(tiny_rf, name="tiny", quantize=mode)
        assert fast.backend == "speed" and table.backend == "table"
        assert "tiny_node[" in fast.source.files["tiny.c"]  # rarely visited splits: records
        report = check(fast, nsl_test.X, y=nsl_test.y, data="KDDTest+")
        assert report.reference_mismatches == 0 and report.reference_proba_mismatches == 0
        assert report.rows == 22_544 and report.mismatches <= 5, report.to_text()
        np.testing.assert_array_equal(fast.predict_proba(nsl_test.X),
                                      table.predict_proba(nsl_test.X))
    fast.write(tmp_path)
    arm = ["arm-none-eabi-gcc", "-mthumb", "--specs=picolibc.specs", *STRICT]
    for cc in (["gcc", *STRICT], ["clang", *STRICT], CXX,
               [*arm, "-mcpu=cortex-m4", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"],
               [*arm, "-mcpu=cortex-m0plus", "-mfloat-abi=soft"]):
        subprocess.run([*cc, "-Os", "-c", str(tmp_path / "tiny.c"), "-I", str(tmp_path),
                        "-o", str(tmp_path / "tiny.o")], check=True)


@pytest.mark.parametrize("target", ["cortex-m0plus", "atmega328p"])
def test_tiny_forest_on_targets_equals_host(target: str, tiny_rf, nsl_test,
                                            tmp_path: Path) -> None:
    """The straight-line walk on the M0+ (unicorn) and the Uno (simavr, code in flash):
    NaN rows (stand-ins copied on the stack) and inf rows included."""
    fast = tinycodegen.compile(tiny_rf, name="tiny", quantize="int8", optimize="speed")
    X = nsl_test.X[np.random.default_rng(4).choice(len(nsl_test.X), 60, replace=False)].copy()
    X[:6, [0, 4, 22, 28]] = [[np.nan, 0, 0, 0], [0, np.nan, np.nan, 0], [-np.nan, 1, 2, 0],
                             [np.inf, 0, 0, 0], [0, 0, 0, -np.inf], [-0.0, -0.0, -0.0, -0.0]]
    fast.write(tmp_path)
    m = measure(tmp_path, "tiny", X, target, cache_dir=tmp_path / "cache")
    assert m.fits and m.ram_bytes == 0
    np.testing.assert_array_equal(m.predictions, fast.predict_index(X))
    assert (m.predictions[3:5] == -1).all() and (m.predictions[:3] >= 0).all()


def test_cli_and_voting_members(tmp_path: Path, capsys) -> None:
    import joblib

    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 3)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    rf = RandomForestClassifier(3, max_depth=4, random_state=0, n_jobs=1).fit(X, y)
    path = tmp_path / "rf.joblib"
    joblib.dump(rf, path)
    assert main(["compile", str(path), "--quantize", "int16", "--optimize", "speed", "-o",
                 str(tmp_path / "o"), "--name", "ks"]) == 0
    header = (tmp_path / "o" / "ks.h").read_text()
    assert "speed, quantized int16" in header and '#define KS_GUARANTEE "reference"' in header
    assert "ks_node" not in (tmp_path / "o" / "ks.c").read_text()
    capsys.readouterr()
    # a quantized vote: its forests in the speed layout, other members in their table layout
    from sklearn.linear_model import LogisticRegression

    rows = np.vstack([X[:200], [[np.nan, 0, 1], [np.inf, 0, 0], [-0.0, -0.0, 0.0]]])
    rows = rows.astype(np.float32)
    for voting in ("soft", "hard"):
        small = RandomForestClassifier(2, max_depth=3, random_state=1, n_jobs=1)
        vote = VotingClassifier([("a", rf), ("lr", LogisticRegression()), ("b", small)],
                                voting=voting).fit(X, y)
        fast = tinycodegen.compile(vote, name="v", quantize="int8", optimize="speed",
                                   calibration=X)
        table = tinycodegen.compile(vote, name="v", quantize="int8", calibration=X)
        assert fast.backend == "speed" and table.backend == "table"
        files = fast.source.files
        assert "speed layout" in files["v_m0.c"] and "speed layout" in files["v_m2.c"]
        assert files["v_m1.c"] == table.source.files["v_m1.c"]  # LR: its one layout
        np.testing.assert_array_equal(fast.predict_index(rows), table.predict_index(rows))
        np.testing.assert_array_equal(fast.predict_proba(rows), table.predict_proba(rows))


def test_sanitizers_over_all_test_rows(tiny_rf, nsl_test, tmp_path: Path) -> None:
    """ASan + UBSan build of the speed layout (code and records), every KDDTest+ row plus
    rows of NaN, inf and -0.0; the outputs are the cffi build's."""
    fast = tinycodegen.compile(tiny_rf, name="qsan", quantize="int8", optimize="speed")
    X = np.vstack([nsl_test.X, np.full((1, 41), np.nan, np.float32),
                   np.full((1, 41), np.inf, np.float32),
                   np.full((1, 41), -0.0, np.float32)]).astype(np.float32)
    pred, proba = sanitized_outputs(fast, X, tmp_path)
    np.testing.assert_array_equal(pred, fast.predict_index(X))
    np.testing.assert_array_equal(proba, fast.predict_proba(X))


@pytest.mark.parametrize("target", ["cortex-m0plus", "cortex-m4f", "atmega328p"])
def test_multiclass_nan_routes_and_records_on_targets(target: str, tmp_path: Path) -> None:
    """int16, 3 classes, NaN learned both ways, negative thresholds (keys) and, raw bits with
    half the splits as records: each build's emulated predictions equal the host C's."""
    rng = np.random.default_rng(11)
    X = rng.normal(size=(600, 6)).astype(np.float32)
    X[rng.random(X.shape) < 0.1] = np.nan
    y = (np.nan_to_num(X[:, 0]) > 0).astype(int) + (np.nan_to_num(X[:, 1]) > 0.5)
    rows = rng.normal(size=(70, 6)).astype(np.float32)
    rows[rng.random(rows.shape) < 0.15] = np.nan
    rows[:4, 2] = [np.inf, -np.inf, -0.0, np.float32(3.4028235e38)]
    for shift, name in ((0.0, "mk"), (8.0, "mr")):  # shifted: every threshold >= 0, raw bits
        rf = RandomForestClassifier(4, max_depth=6, random_state=1, n_jobs=1).fit(X + shift, y)
        q = tinycodegen.compile(rf, name=name, quantize="int16").ir
        src = emit_qtree_speed(q, name, cold_visits=1.0, min_nodes=0)
        assert ("_node[" in src.files[f"{name}.c"]) == (shift > 0)
        out = tmp_path / name
        write_files(src, out)
        data = rows + np.float32(shift)
        m = measure(out, name, data, target, cache_dir=tmp_path / "cache")
        np.testing.assert_array_equal(m.predictions, build(src).predict_index(data))
        np.testing.assert_array_equal(m.predictions, q.reference(data).predict)
