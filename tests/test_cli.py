"""The command line: compile, check (text/JSON/exit status) and every bad-input path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

import tinycodegen
from tinycodegen.cli import main


@pytest.fixture(scope="module")
def rf_file(tmp_path_factory, example_forest) -> Path:
    path = tmp_path_factory.mktemp("models") / "rf.joblib"
    joblib.dump(example_forest, path)
    return path


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tinycodegen", *args], capture_output=True,
                          text=True, timeout=600)


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_compile_writes_a_self_contained_folder(rf_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    proc = run_cli("compile", str(rf_file), "-o", str(out), "--name", "nslkdd_rf")
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == ["nslkdd_rf.c", "nslkdd_rf.h", "tcg_argmax.h", "tcg_bits.h", "tcg_f64.h",
                     "tcg_input.h", "tcg_rom.h", "tcg_vote.h"]
    header = (out / "nslkdd_rf.h").read_text()
    assert "#define NSLKDD_RF_N_FEATURES 41" in header
    assert "#define NSLKDD_RF_N_CLASSES 2" in header
    assert "int32_t nslkdd_rf_predict(const float *x);" in header
    assert "void nslkdd_rf_predict_proba(const float *x, float *out);" in header
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Wconversion",
                    "-Wdouble-promotion", "-Werror", "-c", str(out / "nslkdd_rf.c"), "-o",
                    str(tmp_path / "m.o")], check=True)


def test_check_text_and_json_on_all_of_kddtest(rf_file: Path) -> None:
    proc = run_cli("check", str(rf_file), "--data", "nsl-kdd:test", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["rows"] == 22_544 and report["mismatches"] == 0 and report["ok"] is True
    assert report["backend"] == "table"
    assert main(["check", str(rf_file), "--data", "nsl-kdd:test21", "--backend", "inline"]) == 0


def test_check_reports_comparison_backend_mismatches_and_fails(rf_file: Path, capsys) -> None:
    status = main(["check", str(rf_file), "--data", "nsl-kdd:test", "--backend", "emlearn",
                   "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["backend"] == "emlearn" and report["rows"] == 22_544
    assert report["mismatches"] > 0 and status == 1  # emlearn's hard vote, reported as it is
    assert report["examples"] and "sklearn_proba" in report["examples"][0]


def test_python_api(example_forest, nsl_test, tmp_path: Path) -> None:
    compiled = tinycodegen.compile(example_forest, name="api_rf", backend="inline")
    X = nsl_test.X[:500]
    assert (compiled.predict(X) == example_forest.predict(X)).all()
    assert (compiled.predict_proba(X) == example_forest.predict_proba(X).astype(np.float32)).all()
    written = compiled.write(tmp_path)
    expected = {"api_rf.c", "api_rf.h", "tcg_argmax.h", "tcg_bits.h", "tcg_f64.h", "tcg_input.h",
                "tcg_rom.h", "tcg_vote.h"}
    assert {p.name for p in written} == expected


def test_skops_file_is_accepted(example_forest, tmp_path: Path) -> None:
    import skops.io as sio

    path = tmp_path / "rf.skops"
    sio.dump(example_forest, path)
    assert main(["compile", str(path), "-o", str(tmp_path / "out"), "--name", "sk"]) == 0
    assert (tmp_path / "out" / "sk.c").is_file()


# ---- bad input: one clear line, exit status 2, nothing written ----------------------------
def test_unsupported_estimator(tmp_path: Path) -> None:
    path = tmp_path / "knn.joblib"
    joblib.dump(KNeighborsClassifier().fit([[0.0], [1.0]], [0, 1]), path)
    line = one_error_line(run_cli("compile", str(path), "-o", str(tmp_path / "o")))
    assert "KNeighborsClassifier" in line and "RandomForestClassifier" in line
    assert not (tmp_path / "o").exists()


def test_unfitted_model(tmp_path: Path) -> None:
    path = tmp_path / "dt.joblib"
    joblib.dump(DecisionTreeClassifier(), path)
    line = one_error_line(run_cli("compile", str(path), "-o", str(tmp_path / "o")))
    assert "not fitted" in line


@pytest.mark.parametrize("payload", [b"not a pickle at all", b"\x80\x04\x95garbage", b""])
def test_corrupt_file(tmp_path: Path, payload: bytes) -> None:
    path = tmp_path / "broken.joblib"
    path.write_bytes(payload)
    line = one_error_line(run_cli("compile", str(path), "-o", str(tmp_path / "o")))
    assert "broken.joblib" in line


def test_file_that_is_not_a_model(tmp_path: Path) -> None:
    path = tmp_path / "dict.joblib"
    joblib.dump({"weights": [1, 2, 3]}, path)
    assert "not a scikit-learn estimator" in one_error_line(run_cli("compile", str(path)))
    assert "does not exist" in one_error_line(run_cli("compile", str(tmp_path / "nope.pkl")))


@pytest.mark.parametrize("name", ["1abc", "int", "my-model", "tcg_x", ""])
def test_invalid_c_name(rf_file: Path, tmp_path: Path, name: str) -> None:
    line = one_error_line(run_cli("compile", str(rf_file), "-o", str(tmp_path / "o"),
                                  "--name", name))
    assert "invalid model name" in line
    assert not (tmp_path / "o").exists()


def test_wrong_feature_count(rf_file: Path, tmp_path: Path) -> None:
    data = tmp_path / "rows.npy"
    np.save(data, np.zeros((4, 5), dtype=np.float32))
    line = one_error_line(run_cli("check", str(rf_file), "--data", str(data)))
    assert "41 features" in line and "5" in line


def test_unwritable_output_folder(rf_file: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    line = one_error_line(run_cli("compile", str(rf_file), "-o", str(blocker / "sub")))
    assert "cannot write" in line


def test_untrusted_skops_types_are_refused(tmp_path: Path) -> None:
    import os

    import skops.io as sio
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    evil = tmp_path / "evil.skops"
    forest = RandomForestClassifier(2).fit([[0.0], [1.0]], [0, 1])
    sio.dump(make_pipeline(FunctionTransformer(func=os.getcwd), forest), evil)
    line = one_error_line(run_cli("compile", str(evil), "-o", str(tmp_path / "no")))
    assert "untrusted" in line and "getcwd" in line
    assert not (tmp_path / "no").exists()
    path = tmp_path / "odd.skops"
    sio.dump(forest, path)
    # a pickle renamed to .skops is not a zip: clear error
    bad = tmp_path / "bad.skops"
    bad.write_bytes(b"PK-not-really")
    assert "bad.skops" in one_error_line(run_cli("compile", str(bad)))
    assert main(["compile", str(path), "-o", str(tmp_path / "ok"), "--name", "odd"]) == 0
