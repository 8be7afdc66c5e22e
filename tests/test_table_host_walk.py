"""The default (table) layout's two forms of predict's walk: the trees as code on a 64-bit host
compiled for speed, the node tables on microcontrollers and in -Os builds. Both send every row
to sklearn's leaves; the preprocessor picks exactly one."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

import tinycodegen
from tinycodegen.build import build, write_sources
from tinycodegen.core.csource import CSource
from tinycodegen.families.trees import emit_table
from tinycodegen.families.trees.emit_table import HOST_CODE_NODES, host_code
from tinycodegen.lower import load as load_ir

F32 = np.float32


def _forest() -> tuple[RandomForestClassifier, np.ndarray]:
    """A 3-class forest trained with NaN (so some nodes send NaN left), and test rows holding
    thresholds, their float neighbours, NaN, +-inf and -0.0."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(600, 5)).astype(F32)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5).astype(int)
    X[rng.random(X.shape) < 0.08] = np.nan
    model = RandomForestClassifier(7, max_depth=6, random_state=3).fit(X, y)
    thr = np.concatenate([t.tree_.threshold[t.tree_.feature >= 0] for t in model.estimators_])
    vals = thr.astype(F32)
    vals = np.concatenate([vals, np.nextafter(vals, F32(np.inf)), np.nextafter(vals, -F32(1e30)),
                           [np.nan, np.inf, -np.inf, -0.0, 0.0]]).astype(F32)
    T = rng.choice(vals, size=(3000, 5)).astype(F32)
    T[:200] = rng.normal(size=(200, 5)).astype(F32)
    return model, T


def _forced_table(source: CSource) -> CSource:
    """The same C with the table walk forced (as microcontrollers and -Os builds compile it)."""
    c_file = f"{source.name}.c"
    files = dict(source.files)
    files[c_file] = "#define TCG_TREE_TABLE_WALK 1\n" + files[c_file]
    return dataclasses.replace(source, files=files)


def test_both_walks_give_sklearns_predictions() -> None:
    model, T = _forest()
    source = tinycodegen.compile(model, name="hw", backend="table").source
    assert host_code(load_ir(model))
    finite = ~np.isinf(T).any(axis=1)  # sklearn rejects inf; predict returns -1 there
    assert 0 < finite.sum() < len(T) and np.isnan(T[finite]).any()
    want = model.predict(T[finite])
    for src in (source, _forced_table(source)):
        native = build(src)
        got = native.predict_index(T)
        assert (got[~finite] == -1).all()
        assert (model.classes_[got[finite]] == want).all()
        assert (native.predict_proba(T[finite])
                == model.predict_proba(T[finite]).astype(F32)).all()


@pytest.mark.parametrize(("flags", "code_walk"), [
    (("-O2",), True), (("-Os",), False), (("-O2", "-DTCG_TREE_TABLE_WALK"), False),
])
def test_the_preprocessor_picks_one_walk(flags: tuple[str, ...], code_walk: bool,
                                         tmp_path: Path) -> None:
    model, _ = _forest()
    source = tinycodegen.compile(model, name="pw", backend="table").source
    write_sources(source, tmp_path)
    out = subprocess.run(["gcc", "-std=c99", *flags, "-E", str(tmp_path / "pw.c")],
                         capture_output=True, text=True, check=True).stdout
    assert ("pw_sum0(" in out) == code_walk
    assert out.count("static void pw_sum(") == 1


def test_large_forests_keep_the_table_walk_only(monkeypatch: pytest.MonkeyPatch) -> None:
    model, _ = _forest()
    ir = load_ir(model)
    assert ir.n_nodes <= HOST_CODE_NODES and host_code(ir)
    monkeypatch.setattr(emit_table, "HOST_CODE_NODES", ir.n_nodes - 1)
    assert not host_code(ir)
    c_text = tinycodegen.compile(model, name="lw", backend="table").source.files["lw.c"]
    assert "UINTPTR_MAX" not in c_text and "lw_sum0" not in c_text


@pytest.mark.parametrize("cc", ["gcc", "clang", "g++"])
def test_the_host_walk_builds_strict(cc: str, tmp_path: Path) -> None:
    model, _ = _forest()
    source = tinycodegen.compile(model, name="sw", backend="table").source
    write_sources(source, tmp_path)
    lang = ["-x", "c++", "-std=c++11"] if cc == "g++" else ["-std=c99", "-Wdouble-promotion"]
    subprocess.run([cc, *lang, "-O2", "-Wall", "-Wextra", "-Wpedantic", "-Wconversion", "-Werror",
                    "-c", str(tmp_path / "sw.c"), "-o", str(tmp_path / "sw.o")], check=True)
