"""No string from a model or a user becomes C except as an escaped literal or a validated
identifier (issue 9, section 3), truthful headers (section 5) and safe model names (section 4).

Fuzzed strings go into every string field of a tree, an LR Pipeline with a ColumnTransformer,
a VotingClassifier and a quantized model; the C builds with -Werror as C99 (gcc) and C++11 (g++),
the class labels, feature names and categories read back from the compiled C equal the
originals byte for byte, and the objects export nothing but the header's functions.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, OrdinalEncoder
from sklearn.tree import DecisionTreeClassifier

import tinycodegen
from strings_helpers import (
    build_and_read,
    exported_symbols,
    has_constructor_section,
    header_functions,
    lex,
    literal_bytes,
)
from tinycodegen.emit.common import GUARANTEES, c_string
from tinycodegen.errors import InvalidNameError, UnsupportedModelError
from tinycodegen.names import column_identifiers, comment_text, validate_c_name

SPECIAL = ["*/", "/*", "??/", "??!", "??=", "?", "\n", "\r", '"', "'", "\\", "#", "//", "%:",
           "\\\n", "é", "\u2028", "\U0001f600", "\t", "\x7f", "0", "7"]
PIECE = st.one_of(st.sampled_from(SPECIAL),
                  st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\0"),
                          max_size=4))
TEXT = st.lists(PIECE, max_size=5).map("".join)
SETTINGS = settings(max_examples=15, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def distinct(n: int, min_size: int = 0) -> st.SearchStrategy[list[str]]:
    return st.lists(TEXT.filter(lambda s: len(s) >= min_size), min_size=n, max_size=n,
                    unique=True)


def rows(n: int = 60, seed: int = 0) -> tuple[np.random.Generator, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng, rng.normal(size=(n, 2))


def checked_build(model: object, *, quantize: str | None = None, backend: str = "table",
                  cats: dict[str, list[str]] | None = None) -> None:
    """Compile, build as C99 and C++11, read the strings back, compare, check symbols."""
    src = tinycodegen.compile(model, name="fz", quantize=quantize, backend=backend).source
    up = "FZ"
    meta_labels = [str(c) for c in np.asarray(model.classes_).tolist()]  # type: ignore[attr-defined]
    names = getattr(model, "feature_names_in_", None)
    macros = [f"{up}_CLASS_LABELS"] + ([f"{up}_FEATURE_NAMES"] if names is not None else [])
    expect = {f"{up}_CLASS_LABELS": meta_labels}
    if names is not None:
        expect[f"{up}_FEATURE_NAMES"] = [str(n) for n in names]
    head = src.files["fz.h"]
    for col, values in (cats or {}).items():
        ident = re.search(rf"#define ({up}_\w+)_COLUMN {re.escape(c_string(col))}\n", head)
        assert ident, f"no _COLUMN macro for {col!r}"
        macros.append(f"{ident.group(1)}_CATEGORIES")
        expect[macros[-1]] = values
    with tempfile.TemporaryDirectory() as tmp:
        for cxx in (False, True) if src.strict else (False,):
            folder = Path(tmp) / ("cxx" if cxx else "c")
            got = build_and_read(src.files, "fz", macros, folder, cxx, src.strict)
            for m in macros:
                assert got[m] == [s.encode() for s in expect[m]], m
        objects = [f[:-2] + ".o" for f in src.files if f.endswith(".c")]
        folder = Path(tmp) / "c"
        exported = exported_symbols(folder, objects)
        assert all(sym.startswith("fz_") for sym in exported), exported
        if src.strict:  # comparison backends also export the tool's own functions
            assert exported <= header_functions(src.files)
        assert not has_constructor_section(folder, objects)
    for fname, text in src.files.items():
        for kind, piece in lex(text):
            if kind == "comment":  # comments carry only the safe alphabet's model text
                assert "*/" not in piece[2:-2] and "??" not in piece, (fname, piece)


@SETTINGS
@given(labels=distinct(3), feats=distinct(3, 1))
def test_tree_labels_and_feature_names(labels: list[str], feats: list[str]) -> None:
    rng, X = rows()
    df = pd.DataFrame(np.c_[X, rng.normal(size=len(X))], columns=feats)
    y = np.array(labels, dtype=object)[rng.integers(0, 3, len(X))]
    checked_build(DecisionTreeClassifier(max_depth=3, random_state=0).fit(df, y))


def lr_pipeline(labels: list[str], cols: list[str], cats: list[str], steps: list[str]):
    rng, X = rows()
    df = pd.DataFrame({cols[0]: X[:, 0], cols[1]: np.array(cats, dtype=object)[
        rng.integers(0, len(cats), len(X))], cols[2]: np.array(cats[::-1], dtype=object)[
        rng.integers(0, len(cats), len(X))]})
    y = np.array(labels, dtype=object)[rng.integers(0, len(labels), len(X))]
    ct = ColumnTransformer([("num", MinMaxScaler(), [cols[0]]),
                            ("oh", OneHotEncoder(handle_unknown="ignore"), [cols[1]]),
                            ("ord", OrdinalEncoder(), [cols[2]])])
    model = Pipeline([("ct", ct), ("lr", LogisticRegression(max_iter=300))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(df, y)
    # sklearn checks names only in fit: a saved model can hold any step / transformer name.
    model.steps = [(steps[0], ct), (steps[1], model.steps[1][1])]
    ct.transformers_ = [(steps[2], t, c) if n == "oh" else (n, t, c)
                        for n, t, c in ct.transformers_]
    for attr in ("output_indices_", "_transformer_to_input_indices"):
        setattr(ct, attr, {steps[2] if n == "oh" else n: v for n, v in getattr(ct, attr).items()})
    assert (model.predict(df) == model.predict(df)).all()  # still a consistent model
    return model


@SETTINGS
@given(labels=distinct(3), cols=distinct(3, 1), cats=distinct(3), steps=distinct(3, 1))
def test_lr_pipeline_every_string_field(labels: list[str], cols: list[str], cats: list[str],
                                        steps: list[str]) -> None:
    model = lr_pipeline(labels, cols, cats, steps)
    checked_build(model, cats={cols[1]: sorted(cats), cols[2]: sorted(cats)})


@SETTINGS
@given(labels=distinct(2), feats=distinct(2, 1), members=distinct(2, 1))
def test_voting_member_names(labels: list[str], feats: list[str], members: list[str]) -> None:
    rng, X = rows()
    df = pd.DataFrame(X, columns=feats)
    y = np.array(labels, dtype=object)[(X[:, 0] + 0.3 * rng.normal(size=len(X)) > 0) * 1]
    vote = VotingClassifier([("a", DecisionTreeClassifier(max_depth=2, random_state=0)),
                             ("b", DecisionTreeClassifier(max_depth=3, random_state=1))],
                            voting="soft").fit(df, y)
    vote.estimators = [(m, e) for m, (_, e) in zip(members, vote.estimators, strict=True)]
    checked_build(vote)


@SETTINGS
@given(labels=distinct(2), feats=distinct(2, 1))
def test_quantized_tree_strings(labels: list[str], feats: list[str]) -> None:
    rng, X = rows()
    df = pd.DataFrame(X, columns=feats)
    y = np.array(labels, dtype=object)[(X[:, 0] > 0) * 1]
    checked_build(DecisionTreeClassifier(max_depth=3, random_state=0).fit(df, y), quantize="int8")


@SETTINGS
@given(labels=distinct(3), cols=distinct(3, 1), cats=distinct(3), steps=distinct(3, 1))
def test_quantized_pipeline_strings(labels: list[str], cols: list[str], cats: list[str],
                                    steps: list[str]) -> None:
    model = lr_pipeline(labels, cols, cats, steps)
    checked_build(model, quantize="int8", cats={cols[1]: sorted(cats), cols[2]: sorted(cats)})


# The step name, with line breaks so that it would compile and run where it lands.
PAYLOAD_C = ('lr */\n#include <stdio.h>\n#ifndef PWN\n#define PWN\n'
             '__attribute__((constructor)) static void f(void) '
             '{{ FILE *p = fopen("{marker}", "w"); if (p) fclose(p); }}\n#endif\n/*')


def injected_model(marker: Path) -> Pipeline:
    payload = PAYLOAD_C.format(marker=marker)
    model = lr_pipeline(["a", "b"], ["num", "cat", "ord"], ["x", "y"], ["ct", "lr", "oh"])
    model.steps = [(payload, model.steps[0][1]), model.steps[1]]
    return model


def test_injected_step_name_stays_out_of_the_code(tmp_path: Path) -> None:
    marker = tmp_path / "constructor-ran"
    model = injected_model(marker)
    compiled = tinycodegen.compile(model, name="inj")
    for fname, text in compiled.source.files.items():
        for kind, piece in lex(text):
            if kind == "code":
                assert "constructor" not in piece and "fopen" not in piece, fname
            if kind == "comment":
                assert "#" not in piece or "#include" not in piece, fname
        assert "#include <stdio.h>" not in text and str(marker) not in text, fname
    X = np.array([[0.5, 0, 1]], dtype=np.float32)
    assert compiled.predict(X).tolist() == model.predict(  # builds and loads through cffi
        pd.DataFrame({"num": [0.5], "cat": ["x"], "ord": ["y"]})).tolist()
    assert not marker.exists()


def test_injected_skops_file_checks_without_running_it(tmp_path: Path) -> None:
    """The issue's scenario end to end: a .skops file (trusted types only) whose step name is
    C, compiled and checked by the CLI (which builds and loads the C)."""
    import skops.io as sio

    marker = tmp_path / "constructor-ran"
    path = tmp_path / "evil.skops"
    sio.dump(injected_model(marker), path)
    data = tmp_path / "rows.npy"
    np.save(data, np.array([[0.2, 0, 1], [0.9, 1, 0]], dtype=np.float32))
    for cmd in (["compile", str(path), "-o", str(tmp_path / "out"), "--name", "evil"],
                ["check", str(path), "--data", str(data)]):
        proc = subprocess.run([sys.executable, "-m", "tinycodegen", *cmd], capture_output=True,
                              text=True)
        assert proc.returncode == 0, proc.stderr
    assert "#include <stdio.h>" not in (tmp_path / "out" / "evil.h").read_text()
    assert not marker.exists()


@pytest.mark.parametrize("backend", ["emlearn", "m2cgen"])
def test_comparison_backends_carry_strings_as_literals(backend: str) -> None:
    rng, X = rows(seed=4)
    names = ["f */ #x", "??/", "a\nb"]
    df = pd.DataFrame(np.c_[X, X[:, 0] * 2], columns=names)
    y = np.array(['l"1??!', "*/\\"], dtype=object)[(X[:, 0] > 0) * 1]
    checked_build(DecisionTreeClassifier(max_depth=3, random_state=0).fit(df, y), backend=backend)


@pytest.mark.parametrize("label", ["what??!", "x??/", "??=define", "a??'b", "??(??)??<??>??-"])
def test_trigraph_labels_build_and_read_back(label: str) -> None:
    rng, X = rows(seed=1)
    y = np.array([label, "plain"], dtype=object)[(X[:, 0] > 0) * 1]
    checked_build(DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y))


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
