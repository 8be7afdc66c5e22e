"""compile --format: every package's manifests parse and follow their format's documented
schema, user strings reach them escaped, and writing is all-or-nothing (no build tools needed;
the builds are in test_packaging_builds.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.tree import DecisionTreeClassifier

import tinycodegen
from tinycodegen.packaging import FORMATS, json_string, properties_text, yaml_string

HOSTILE = 'a"b\\c\n${X} #; é😀\t}{'
LABELS = np.array([HOSTILE, "normal"])
SEMVER = re.compile(r"\d+\.\d+\.\d+\Z")


@pytest.fixture(scope="module")
def compiled():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4)).astype(np.float32)
    y = LABELS[(X[:, 0] + X[:, 1] > 0).astype(int)]
    return tinycodegen.compile(DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y),
                               name="pkg_dt")


def written(compiled, tmp_path: Path, fmt: str) -> dict[str, str]:
    out = tmp_path / fmt
    paths = compiled.write(out, format=fmt)
    files = {p.relative_to(out).as_posix(): p.read_text() for p in paths}
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert on_disk == set(files)  # no temporary files left behind
    return files


def model_sources(files: dict[str, str]) -> None:
    assert {"src/pkg_dt.h", "src/pkg_dt.c"} <= set(files)
    assert '"a\\"b\\\\c\\012${X} #; ' in files["src/pkg_dt.h"]  # the label, as a C literal


def test_formats_table() -> None:
    assert list(FORMATS) == ["plain", "cmake", "arduino", "platformio", "zephyr", "espidf"]


def test_plain_is_the_folder(compiled, tmp_path: Path) -> None:
    assert set(written(compiled, tmp_path, "plain")) == set(compiled.source.files)


def test_cmake(compiled, tmp_path: Path) -> None:
    files = written(compiled, tmp_path, "cmake")
    model_sources(files)
    cm = files["CMakeLists.txt"]
    assert "add_library(pkg_dt STATIC" in cm and '/src/pkg_dt.c"' in cm
    assert 'target_include_directories(pkg_dt PUBLIC "${CMAKE_CURRENT_SOURCE_DIR}/src")' in cm
    tc = files["cmake/arm-none-eabi.cmake"]
    assert "set(CMAKE_SYSTEM_NAME Generic)" in tc and "-mfpu=fpv4-sp-d16" in tc
    assert "normal" not in cm + tc and "X}" not in cm  # no label in CMake code


def test_cmake_reserved_target_name(compiled, tmp_path: Path) -> None:
    test = tinycodegen.compile(compiled.model, name="test")
    with pytest.raises(tinycodegen.errors.InvalidNameError, match="CMake reserves"):
        test.write(tmp_path / "t", format="cmake")
    assert not (tmp_path / "t").exists()
    m = tinycodegen.compile(compiled.model, name="m")  # not confused with libm
    assert "add_library(m STATIC" in written(m, tmp_path, "cmake")["CMakeLists.txt"]


def test_arduino_library_spec(compiled, tmp_path: Path) -> None:
    files = written(compiled, tmp_path, "arduino")
    model_sources(files)
    assert "src/tcg_csv.h" in files
    props = dict(line.split("=", 1) for line in files["library.properties"].splitlines())
    required = {"name", "version", "author", "maintainer", "sentence", "paragraph", "category",
                "url", "architectures"}
    assert required <= set(props)
    assert re.fullmatch(r"[A-Za-z][A-Za-z0-9 _.-]*", props["name"]) and props["name"] == "pkg_dt"
    assert SEMVER.match(props["version"]) and props["architectures"] == "*"
    assert props["category"] in {"Display", "Communication", "Signal Input/Output", "Sensors",
                                 "Device Control", "Timing", "Data Storage", "Data Processing",
                                 "Other"}
    assert all(32 <= ord(c) < 127 for c in files["library.properties"].replace("\n", ""))
    ino = files["examples/pkg_dt_serial/pkg_dt_serial.ino"]
    assert "#include <pkg_dt.h>" in ino and "PKG_DT_CLASS_LABELS" in ino and "micros()" in ino
    assert "normal" not in ino  # labels come from the header's escaped macros


def test_platformio_library_json(compiled, tmp_path: Path) -> None:
    files = written(compiled, tmp_path, "platformio")
    model_sources(files)
    manifest = json.loads(files["library.json"])
    assert manifest["name"] == "pkg_dt" and SEMVER.match(manifest["version"])
    assert HOSTILE in manifest["description"]  # escaped, and read back exactly
    assert f"src/{manifest['headers']}" in files
    assert manifest["build"]["srcDir"] == manifest["build"]["includeDir"] == "src"
    assert all(isinstance(a["name"], str) for a in manifest["authors"])


def test_zephyr_module(compiled, tmp_path: Path) -> None:
    files = written(compiled, tmp_path, "zephyr")
    model_sources(files)
    module = yaml.safe_load(files["zephyr/module.yml"])
    # zephyr/scripts/zephyr_module.py's schema: these top-level keys, build.cmake / kconfig
    # relative to the module root
    assert set(module) <= {"name", "build", "samples", "tests", "boards", "blobs", "security",
                           "package-managers", "runners"}
    assert module["name"] == "pkg_dt"
    assert set(module["build"]) <= {"cmake", "kconfig", "cmake-ext", "kconfig-ext", "depends",
                                    "settings", "sysbuild-cmake", "sysbuild-kconfig"}
    cm_dir, kconfig = module["build"]["cmake"], module["build"]["kconfig"]
    assert f"{cm_dir}/CMakeLists.txt".removeprefix("./") in files and kconfig in files
    assert "if(CONFIG_TINYCODEGEN_PKG_DT)" in files["CMakeLists.txt"]
    assert "zephyr_library_named(tinycodegen_pkg_dt)" in files["CMakeLists.txt"]
    assert "zephyr_library_sources(src/pkg_dt.c)" in files["CMakeLists.txt"]
    assert re.search(r"^config TINYCODEGEN_PKG_DT\n\tbool \"", files["Kconfig"], re.M)


def test_espidf_component(compiled, tmp_path: Path) -> None:
    files = written(compiled, tmp_path, "espidf")
    model_sources(files)
    manifest = yaml.safe_load(files["idf_component.yml"])
    assert SEMVER.match(manifest["version"]) and manifest["dependencies"]["idf"].startswith(">=")
    assert HOSTILE in manifest["description"]
    cm = files["CMakeLists.txt"]
    srcs = re.search(r"idf_component_register\(SRCS (.*)\n\s*INCLUDE_DIRS \"src\"\)", cm)
    assert srcs and [s.strip('"') for s in srcs.group(1).split()] == ["src/pkg_dt.c"]


@pytest.mark.parametrize("text", [HOSTILE, "", "plain", "\x00\x7f\u2028\U0001f600'\""])
def test_escapers_round_trip(text: str) -> None:
    assert json.loads(json_string(text)) == text
    assert yaml.safe_load(f"k: {yaml_string(text)}\n") == {"k": text}
    one_line = properties_text(text)
    assert "\n" not in one_line and all(32 <= ord(c) < 127 for c in one_line)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tinycodegen", *args], capture_output=True,
                          text=True, timeout=120)


def test_cli_format(compiled, tmp_path: Path) -> None:
    import joblib

    model = tmp_path / "m.joblib"
    joblib.dump(compiled.model, model)
    ok = run_cli("compile", str(model), "-o", str(tmp_path / "z"), "--name", "m1",
                 "--format", "zephyr")
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "z" / "zephyr" / "module.yml").is_file()
    bad = run_cli("compile", str(model), "-o", str(tmp_path / "q"), "--format", "keil")
    assert bad.returncode == 2 and "invalid choice: 'keil'" in bad.stderr
    assert not (tmp_path / "q").exists()


def test_all_or_nothing(compiled, tmp_path: Path) -> None:
    """A file where the package needs a folder: one clear error, no file written."""
    out = tmp_path / "ard"
    out.mkdir()
    (out / "examples").write_text("in the way")
    with pytest.raises(tinycodegen.errors.TinycodegenError, match="cannot write"):
        compiled.write(out, format="arduino")
    left = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert left == ["examples"]
    assert (out / "examples").read_text() == "in the way"
