#!/usr/bin/env python3
"""Build and run the firmware example in one command, and compare it with the host C.

    python examples/firmware/run_example.py make      # plain folder + Makefile, Cortex-M4F, QEMU
    python examples/firmware/run_example.py cmake     # --format cmake + its arm-none-eabi
                                                      # toolchain file, Cortex-M4F, QEMU
    python examples/firmware/run_example.py arduino   # --format arduino, arduino-builder for an
                                                      # Uno (ATmega328P), simavr
Options: --model PATH (default examples/rf.joblib; examples/dt.joblib, a depth-5 tree, for the
Uno), --rows N (first N rows of KDDTest+, default 20), --build DIR (default build/fw-FORMAT).
A missing example model is trained first (examples/train_rf.py). Prints the device's lines,
then how many predictions equal the host C (the same C built for this machine) and sklearn;
exit status 1 if any differs.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np

import tinycodegen
from tinycodegen.datasets import nsl_kdd

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent
QEMU = ["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-semihosting", "-kernel"]
sys.path.insert(0, str(HERE))
from make_rows import kddtest_csv  # noqa: E402


def ensure_model(path: Path, fmt: str) -> None:
    if path.exists():
        return
    extra = ["--tree", "--depth", "5"] if fmt == "arduino" else []
    subprocess.run([sys.executable, str(EXAMPLES / "train_rf.py"), "--out", str(path), *extra],
                   check=True)


def run(cmd: list[str], **kw: object) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)  # type: ignore[call-overload]
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd[:3])} ... failed:\n{(done.stdout + done.stderr)[-3000:]}")
    return done.stdout + done.stderr


def run_make(pkg: Path, name: str, csv: Path, build: Path) -> list[str]:
    run(["make", "-C", str(HERE), f"MODEL_DIR={pkg}", f"NAME={name}", f"ROWS={csv}",
         f"BUILD={build}", f"PYTHON={sys.executable}"])
    return run(QEMU + [str(build / "fw.elf")], timeout=120).splitlines()


def run_cmake(pkg: Path, name: str, csv: Path, build: Path) -> list[str]:
    run(["cmake", "-S", str(HERE / "cmake"), "-B", str(build),
         f"-DCMAKE_TOOLCHAIN_FILE={pkg / 'cmake' / 'arm-none-eabi.cmake'}",
         f"-DTCG_PACKAGE={pkg}", f"-DTCG_NAME={name}", f"-DTCG_ROWS={csv}",
         f"-DPython3_EXECUTABLE={sys.executable}"])
    run(["cmake", "--build", str(build)])
    return run(QEMU + [str(build / "fw.elf")], timeout=120).splitlines()


def run_arduino(pkg: Path, name: str, csv: Path, build: Path) -> list[str]:
    from tinycodegen.core.csource import c_string
    from tinycodegen.packaging.arduino_build import build_sketch
    from tinycodegen.targets.avr import run_simavr

    libs = build / "libraries"
    if libs.exists():
        shutil.rmtree(libs)
    shutil.copytree(pkg, libs / name)
    sketch = build / "tcg_rows"
    sketch.mkdir(parents=True, exist_ok=True)
    shutil.copy(HERE / "arduino" / "tcg_rows" / "tcg_rows.ino", sketch)
    up = name.upper()
    (sketch / "model.h").write_text(
        f"#include <{name}.h>\n#define TCG_MODEL_NAME {c_string(name)}\n"
        f"#define TCG_PREDICT {name}_predict\n#define TCG_N_FEATURES {up}_N_FEATURES\n")
    lines = [ln for ln in csv.read_text().splitlines() if ln]
    rows = [f"static const char tcg_row_{i}[] PROGMEM = {c_string(ln)};"
            for i, ln in enumerate(lines)]
    table = ", ".join(f"tcg_row_{i}" for i in range(len(lines)))
    (sketch / "rows.h").write_text(
        "\n".join([f"#define TCG_N_ROWS {len(lines)}u",
                   f"#define TCG_LINE_MAX {max(map(len, lines)) + 1}", *rows,
                   f"static const char *const tcg_rows[TCG_N_ROWS] PROGMEM = {{{table}}};", ""]))
    elf = build_sketch(sketch, build / "out", libraries=(libs,))
    return run_simavr(elf)


RUNNERS = {"make": run_make, "cmake": run_cmake, "arduino": run_arduino}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("format", choices=list(RUNNERS))
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--rows", type=int, default=20)
    ap.add_argument("--build", type=Path, default=None)
    args = ap.parse_args(argv)
    fmt = args.format
    model_path = args.model or EXAMPLES / ("dt.joblib" if fmt == "arduino" else "rf.joblib")
    ensure_model(model_path, fmt)
    model = joblib.load(model_path)
    name = "nslkdd_" + re.sub(r"[^A-Za-z0-9_]", "_", model_path.stem)
    build = (args.build or Path("build") / f"fw-{fmt}").resolve()
    build.mkdir(parents=True, exist_ok=True)

    compiled = tinycodegen.compile(model, name=name)
    pkg = build / name
    if pkg.exists():
        shutil.rmtree(pkg)
    compiled.write(pkg, format="plain" if fmt == "make" else fmt)
    csv = build / "kddtest.csv"
    csv.write_text(kddtest_csv(args.rows))
    X = nsl_kdd.load("test").X[: args.rows]

    lines = RUNNERS[fmt](pkg, name, csv, build)
    print("\n".join(lines))
    found = dict(re.findall(r"^row (\d+): (-?\d+)", "\n".join(lines), re.M))
    device = np.array([int(found.get(str(i), -2)) for i in range(len(X))])
    host = compiled.predict_index(X)
    sk = np.searchsorted(compiled.classes, model.predict(X.astype(np.float64)))
    same = int((device == host).sum())
    print(f"{fmt}: {same} of {len(X)} predictions equal the host C; "
          f"host C equals sklearn on {int((host == sk).sum())} of {len(X)}")
    return 0 if same == len(X) and (host == sk).all() else 1


if __name__ == "__main__":
    sys.exit(main())
