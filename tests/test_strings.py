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
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.ensemble import VotingClassifier
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier

import tinycodegen
from strings_helpers import (
    build_and_read,
    exported_symbols,
    has_constructor_section,
    header_functions,
    lex,
    lr_pipeline,
    rows,
)
from tinycodegen.core.csource import c_string

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
