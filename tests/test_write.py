"""Writing the output folder: permissions from the umask, and every file or none (a directory
in the way, a read-only file, a rename failing half way: the old files stay as they were)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.tree import DecisionTreeClassifier

import tinycodegen
from tinycodegen.errors import TinycodegenError


@pytest.fixture(scope="module")
def compiled():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    return tinycodegen.compile(DecisionTreeClassifier(max_depth=3).fit(X, X[:, 0] > 0), name="m")


def snapshot(folder: Path) -> dict[str, tuple[bytes | None, int]]:
    return {p.name: (p.read_bytes() if p.is_file() else None, p.stat().st_mode)
            for p in folder.iterdir()}


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_files_get_the_permissions_the_umask_gives(compiled, tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        written = compiled.write(tmp_path / "out")
    finally:
        os.umask(old)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        p.name for p in written)  # no staging folder left behind
    for path in written:
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask, path


def test_rewrite_replaces_every_file(compiled, tmp_path: Path) -> None:
    (tmp_path / "m.h").write_text("old header")
    (tmp_path / "m.c").write_text("old source")
    written = compiled.write(tmp_path)
    assert {p.name: p.read_text() for p in written} == compiled.source.files
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(compiled.source.files)


def test_a_directory_in_the_way_writes_nothing(compiled, tmp_path: Path) -> None:
    (tmp_path / "m.h").write_text("old header")
    (tmp_path / "m.c").mkdir()
    before = snapshot(tmp_path)
    with pytest.raises(TinycodegenError, match=r"m\.c: a directory is in the way"):
        compiled.write(tmp_path)
    assert snapshot(tmp_path) == before


def test_a_read_only_file_writes_nothing(compiled, tmp_path: Path) -> None:
    (tmp_path / "m.h").write_text("old header")
    (tmp_path / "m.c").write_text("old source")
    (tmp_path / "m.c").chmod(0o444)
    before = snapshot(tmp_path)
    with pytest.raises(TinycodegenError, match=r"m\.c: the file is read-only"):
        compiled.write(tmp_path)
    assert snapshot(tmp_path) == before


def test_a_failing_rename_puts_the_old_files_back(compiled, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "m.h").write_text("old header")
    (tmp_path / "m.c").write_text("old source")
    before = snapshot(tmp_path)
    real = os.replace

    def replace(src, dst):  # the new m.c cannot be moved in (m.h already has been)
        if Path(dst) == tmp_path / "m.c" and Path(src).parent != tmp_path:
            if Path(src).name == "m.c":
                raise OSError(28, "No space left on device")
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    names = list(compiled.source.files)
    assert names.index("m.h") < names.index("m.c")  # the header is swapped first
    with pytest.raises(TinycodegenError, match="No space left on device"):
        compiled.write(tmp_path)
    assert snapshot(tmp_path) == before


def test_cli_reports_one_line_and_writes_nothing(tmp_path: Path) -> None:
    import joblib

    model = DecisionTreeClassifier(max_depth=2).fit([[0.0], [1.0]], [0, 1])
    joblib.dump(model, tmp_path / "dt.joblib")
    out = tmp_path / "out"
    out.mkdir()
    (out / "m.c").mkdir()
    proc = subprocess.run([sys.executable, "-m", "tinycodegen", "compile",
                           str(tmp_path / "dt.joblib"), "-o", str(out), "--name", "m"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"error: cannot write {out / 'm.c'}: a directory is in the way (nothing written)"]
    assert sorted(p.name for p in out.iterdir()) == ["m.c"]


def test_a_failed_write_into_a_new_folder_leaves_no_folder(compiled, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.replace

    def replace(src, dst):
        if Path(dst).name == "m.c":
            raise OSError(28, "No space left on device")
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(TinycodegenError, match="No space left on device"):
        compiled.write(tmp_path / "new")
    assert not (tmp_path / "new").exists()
