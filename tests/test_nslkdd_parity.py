"""The example forest on all of KDDTest+ and KDDTest-21: 0 mismatches, and the sanitizer run."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import tinycodegen
from helpers import STRICT, sanitized_outputs, sklearn_index
from tinycodegen.check import check


@pytest.mark.parametrize("backend", ["table", "inline", "speed", "size"])
@pytest.mark.parametrize("split", ["nsl_test", "nsl_test21"])
def test_example_forest_full_parity(example_forest, backend: str, split: str, request) -> None:
    ds = request.getfixturevalue(split)
    compiled = tinycodegen.compile(example_forest, name="nslkdd_rf", backend=backend)
    report = check(compiled, ds.X, data=split)
    assert report.rows == len(ds.X) and report.rows in (22_544, 11_850)
    assert report.mismatches == 0, report.to_text()
    assert report.proba_mismatches == 0, report.to_text()
    assert report.reference_mismatches == 0


@pytest.mark.parametrize("backend", ["table", "inline", "speed", "size"])
def test_sanitizers_over_all_test_rows(example_forest, nsl_test, tmp_path: Path,
                                       backend: str) -> None:
    """ASan + UBSan build of the generated C, run over every KDDTest+ row plus NaN/inf rows."""
    compiled = tinycodegen.compile(example_forest, name="san", backend=backend)
    X = np.vstack([nsl_test.X, np.full((1, 41), np.nan, np.float32),
                   np.full((1, 41), np.inf, np.float32)]).astype(np.float32)
    pred, proba = sanitized_outputs(compiled, X, tmp_path)
    expected = sklearn_index(example_forest, X)
    assert (pred == expected).all()
    assert pred[-1] == -1 and pred[-2] != -1  # inf rejected; NaN routed like sklearn
    want = example_forest.predict_proba(nsl_test.X).astype(np.float32)
    assert (proba[: len(nsl_test.X)] == want).all()


@pytest.mark.parametrize("cc", ["gcc", "clang"])
def test_two_models_link_into_one_program(example_forest, tmp_path: Path, cc: str) -> None:
    if shutil.which(cc) is None:
        pytest.fail(f"{cc} is required (installed by .ci/run)")
    tinycodegen.compile(example_forest, name="rf_a", backend="table").write(tmp_path)
    tinycodegen.compile(example_forest, name="rf_b", backend="inline").write(tmp_path)
    (tmp_path / "main.c").write_text(
        '#include "rf_a.h"\n#include "rf_b.h"\n'
        "int main(void)\n{\n    float x[RF_A_N_FEATURES] = {0.0f};\n"
        "    const char *labels[] = RF_A_CLASS_LABELS;\n    (void)labels;\n"
        "    return rf_a_predict(x) == rf_b_predict(x) ? 0 : 1;\n}\n"
    )
    exe = tmp_path / "both"
    proc = subprocess.run([cc, *STRICT, "-O2", "-I", str(tmp_path), str(tmp_path / "main.c"),
                           str(tmp_path / "rf_a.c"), str(tmp_path / "rf_b.c"), "-o", str(exe)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert subprocess.run([str(exe)]).returncode == 0
    # no writable data in the generated objects
    for name in ("rf_a", "rf_b"):
        obj = tmp_path / f"{name}.o"
        subprocess.run([cc, "-std=c99", "-O2", "-c", str(tmp_path / f"{name}.c"), "-o",
                        str(obj)], check=True)
        sections = subprocess.run(["size", "-A", str(obj)], capture_output=True, text=True).stdout
        for line in sections.splitlines():
            parts = line.split()
            if parts and parts[0] in (".data", ".bss"):
                assert int(parts[1]) == 0, sections
