"""Model names, derived identifiers, string literals, comment text, header wording and error
lines (issue 9, sections 3-5): the rules behind test_strings.py's end-to-end builds."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier

import tinycodegen
from strings_helpers import lex, literal_bytes, lr_pipeline, rows
from tinycodegen.core.csource import GUARANTEES, c_string
from tinycodegen.errors import InvalidNameError, UnsupportedModelError
from tinycodegen.names import column_identifiers, comment_text, validate_c_name


@settings(max_examples=200, derandomize=True)
@given(s=st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\0")))
def test_c_string_round_trips(s: str) -> None:
    lit = c_string(s)
    assert literal_bytes(lit) == s.encode("utf-8")
    assert all(32 <= ord(ch) < 127 for ch in lit) and "??" not in lit
    assert [k for k, _ in lex(lit)] == ["string"]


@pytest.mark.parametrize("bad", ["a\0b", "\ud800", "x" * 5000])
def test_strings_no_c_literal_can_hold_are_refused(bad: str) -> None:
    with pytest.raises(UnsupportedModelError, match="NUL|Unicode|bytes long"):
        c_string(bad)
    y = np.array([bad, "b"], dtype=object)[np.arange(8) % 2]
    model = DecisionTreeClassifier().fit(np.arange(8.0).reshape(-1, 1), y)
    with pytest.raises(UnsupportedModelError):
        tinycodegen.compile(model, name="nul")


@settings(max_examples=100, derandomize=True)
@given(s=st.text())
def test_comment_text_is_inert(s: str) -> None:
    t = comment_text(s)
    assert re.fullmatch(r"[A-Za-z0-9 _.,:;()\[\]=+-]*", t)
    assert [k for k, _ in lex(f"/* {t} */")] == ["comment"]


def test_column_identifiers_are_distinct_and_safe() -> None:
    names = ("a", "a_n", "A", "1x", "m0", "", "é", "a__b", "a b", "a-b", "x5", "n_categories",
             "M12_x", "y" * 80)
    ids = column_identifiers(names, list(range(len(names))))
    derived = [{f"{i.upper()}_{s}" for s in ("INDEX", "N_CATEGORIES", "CATEGORIES",
                                              "UNSEEN_REJECTED", "COLUMN", "CODE")}
               for i in ids.values()]
    for k, d in enumerate(derived):
        assert all(not (d & e) for e in derived[k + 1 :])
    for ident in ids.values():
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", ident) and "__" not in ident
        assert not re.match(r"m[0-9]+(_|$)", ident) and len(ident) <= 40
    assert ids[0] == "a" and ids[6] == "x6" and ids[7] == "a_b" and ids[4] == "x_m0"


@pytest.mark.parametrize("name", ["stdint", "math", "errno", "assert", "string", "stdio",
                                  "iostream", "cmath", "vector", "arduino", "avr", "RF", "Rf",
                                  "myModel", "_x", "x__y", "tcg_rf", "eml_rf", "rf_m0", "1abc",
                                  "int", "my-model", "", "a" * 49, "é"])
def test_refused_model_names(name: str) -> None:
    with pytest.raises(InvalidNameError, match="invalid model name"):
        validate_c_name(name)


@pytest.mark.parametrize("name", ["rf", "nslkdd_rf", "m2", "model", "a_b1", "rf_m", "x" * 48])
def test_accepted_model_names(name: str) -> None:
    assert validate_c_name(name) == name


def test_upper_case_name_rule_is_stated() -> None:
    with pytest.raises(InvalidNameError, match="lower-case C identifiers"):
        validate_c_name("RF")


def test_header_wording_follows_the_guarantee() -> None:
    rng, X = rows(seed=2)
    y = (X[:, 0] > 0).astype(int)
    tree = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
    lr = LogisticRegression().fit(X, y)
    cases = [(tree, None, "table", "exact"), (lr, None, "table", "band"),
             (tree, "int8", "table", "reference"), (lr, "int8", "table", "reference"),
             (tree, None, "m2cgen", "none")]
    for model, q, backend, want in cases:
        src = tinycodegen.compile(model, name="g", quantize=q, backend=backend,
                                  calibration=X if q else None).source
        head = src.files["g.h"]
        assert src.guarantee == want and want in GUARANTEES
        assert f'#define G_GUARANTEE "{want}"' in head
        assert ("exactly as sklearn's predict" in head) == (want == "exact"), (want, head)
        if want == "none":
            assert "not exact (comparison backend)" in head


def test_error_quoting_a_step_name_stays_one_line(tmp_path: Path) -> None:
    import joblib
    from sklearn.decomposition import PCA

    rng, X = rows(seed=3)
    model = Pipeline([("pca", PCA(1)), ("lr", LogisticRegression())]).fit(X, X[:, 0] > 0)
    model.steps[0] = ("a\nb\x1b[2J */", model.steps[0][1])
    joblib.dump(model, tmp_path / "m.joblib")
    proc = subprocess.run([sys.executable, "-m", "tinycodegen", "compile",
                           str(tmp_path / "m.joblib"), "-o", str(tmp_path / "o")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and not (tmp_path / "o").exists()
    assert proc.stderr.count("\n") == 1 and "\x1b" not in proc.stderr
    assert proc.stderr.startswith("error: ") and "a\\nb\\x1b[2J" in proc.stderr


@pytest.mark.parametrize("name", ["stdint", "RF"])
def test_cli_refuses_unsafe_names_with_one_line(tmp_path: Path, name: str) -> None:
    import joblib

    rng, X = rows(seed=5)
    joblib.dump(DecisionTreeClassifier(max_depth=2).fit(X, X[:, 0] > 0), tmp_path / "m.joblib")
    proc = subprocess.run([sys.executable, "-m", "tinycodegen", "compile",
                           str(tmp_path / "m.joblib"), "-o", str(tmp_path / "o"), "--name", name],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and not (tmp_path / "o").exists()
    assert proc.stderr.count("\n") == 1 and "invalid model name" in proc.stderr
    assert ("shadow" in proc.stderr) if name == "stdint" else ("lower-case" in proc.stderr)


def test_transformer_renamed_after_fit_is_one_clear_error() -> None:
    model = lr_pipeline(["a", "b"], ["n", "c1", "c2"], ["x", "y"], ["s0", "s1", "oh"])
    ct = model.steps[0][1]
    ct.transformers_ = [("*/ x", t, c) if n == "num" else (n, t, c)
                        for n, t, c in ct.transformers_]
    with pytest.raises(UnsupportedModelError, match="inconsistent"):
        tinycodegen.compile(model, name="ren")
