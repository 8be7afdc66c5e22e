"""The detectors' C under every compiler: gcc, clang, C++11 strict, arm-none-eabi-gcc (predictions
in the Cortex-M4F emulator equal the host C's), sanitizers, and the detectors linked into one
program. All of KDDTest+ and KDDTest-21 under gcc, clang and the Cortex-M emulators:
test_detect_nsl_compilers.py."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.covariance import EllipticEnvelope
from sklearn.ensemble import IsolationForest
from sklearn.neighbors import LocalOutlierFactor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM

import tinycodegen
from helpers import STRICT
from tinycodegen.build import build
from tinycodegen.check import check


def detectors() -> tuple[dict, np.ndarray]:
    rng = np.random.default_rng(4)
    X = rng.normal(size=(200, 4)).astype(np.float32)
    Xn = X.copy()
    Xn[rng.random(X.shape) < 0.1] = np.nan  # learned NaN routes
    models = {
        "det_if": IsolationForest(n_estimators=20, random_state=0).fit(Xn),
        "det_ee": make_pipeline(StandardScaler(), EllipticEnvelope(random_state=0)).fit(X),
        "det_oc": OneClassSVM(nu=0.1).fit(sp.csr_matrix(X)),
        "det_lof": LocalOutlierFactor(n_neighbors=10, novelty=True,
                                      algorithm="kd_tree").fit(X),
    }
    T = np.concatenate([X, X * 3]).astype(np.float32)
    out = {n: tinycodegen.compile(m, name=n) for n, m in models.items()}
    out["det_qif"] = tinycodegen.compile(models["det_if"], name="det_qif", quantize="int8")
    return out, T


def run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_strict_builds_everywhere(tmp_path: Path) -> None:
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.fail("arm-none-eabi-gcc is required (installed by .ci/run)")
    compiled, T = detectors()
    for name, c in compiled.items():
        folder = tmp_path / name
        c.write(folder)
        src = str(folder / f"{name}.c")
        run(["clang", *STRICT, "-O2", "-ffp-contract=off", "-c", src, "-o", str(folder / "a.o")])
        run(["g++", "-std=c++11", *STRICT[1:], "-x", "c++", "-O2", "-c", src,
             "-o", str(folder / "b.o")])
        run(["arm-none-eabi-gcc", *STRICT, "-Os", "-mcpu=cortex-m4", "-mthumb",
             "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-ffp-contract=off", "-c", src,
             "-o", str(folder / "c.o")])
        report = check(c, T)
        assert report.reference_mismatches == 0, report.to_text()
        assert report.mismatches == 0 or c.quantize, report.to_text()
        clang = build(c.source, cc="clang")
        assert (clang.predict_index(T) == c.predict_index(T)).all()
        for fn in ("decision_function", "score_samples"):
            assert (clang.call_vector(fn, T) == c.call(fn, T)).all()


def test_detectors_link_into_one_program(tmp_path: Path) -> None:
    compiled, T = detectors()
    for c in compiled.values():
        c.write(tmp_path)
    main = tmp_path / "main.c"
    main.write_text(
        '#include "det_if.h"\n#include "det_ee.h"\n#include "det_oc.h"\n#include "det_lof.h"\n'
        "int main(void)\n{\n    const float x[4] = {0.5f, -1.0f, 2.0f, 0.0f};\n"
        "    return (det_if_predict(x) + det_ee_predict(x) + det_oc_predict(x)\n"
        "            + det_lof_predict(x)) >= 0 ? 0 : 1;\n"
        "}\n")
    srcs = [str(main)] + [str(tmp_path / f"{n}.c") for n in compiled]
    run(["gcc", *STRICT, "-O2", "-ffp-contract=off", "-I", str(tmp_path), *srcs,
         "-o", str(tmp_path / "prog"), "-lm"])
    run([str(tmp_path / "prog")])


def test_cortex_m4f_emulator_agrees(tmp_path: Path) -> None:
    from tinycodegen.targets import measure

    compiled, T = detectors()
    for name, c in compiled.items():
        folder = tmp_path / name
        c.write(folder)
        m = measure(folder, name, T, "cortex-m4f", max_rows=12, cache_dir=tmp_path / "cache")
        assert m.flash_bytes > 0
        assert (np.asarray(m.predictions) == c.predict_index(T[m.row_indices])).all()


SAN_MAIN = """#include <stdio.h>
#include MODEL_H
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
int main(int argc, char **argv)
{
    float x[N_FEATURES], s[2];
    FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
    int32_t c;
    if (argc != 3 || in == NULL || out == NULL) {
        return 2;
    }
    while (fread(x, sizeof(float), N_FEATURES, in) == N_FEATURES) {
        c = CAT(PREFIX, _predict)(x);
        s[0] = CAT(PREFIX, _decision_function)(x);
        s[1] = CAT(PREFIX, _score_samples)(x);
        fwrite(&c, sizeof c, 1, out);
        fwrite(s, sizeof(float), 2, out);
    }
    fclose(in);
    fclose(out);
    return 0;
}
"""


def test_sanitizers_over_every_row(tmp_path: Path) -> None:
    compiled, T = detectors()
    T = T.copy()
    T[0, 0], T[1, 1], T[2, 2] = np.nan, np.inf, -np.inf
    (tmp_path / "main.c").write_text(SAN_MAIN)
    (tmp_path / "rows.bin").write_bytes(np.ascontiguousarray(T, np.float32).tobytes())
    rec = np.dtype([("c", "<i4"), ("s", "<f4", (2,))])
    for name, c in compiled.items():
        folder = tmp_path / name
        c.write(folder)
        exe = folder / "san"
        run(["gcc", "-std=c99", "-O1", "-g", "-fsanitize=address,undefined",
             "-fno-sanitize-recover=all", "-ffp-contract=off", "-I", str(folder),
             f'-DMODEL_H="{name}.h"', f"-DPREFIX={name}", f"-DN_FEATURES={T.shape[1]}",
             str(tmp_path / "main.c"), str(folder / f"{name}.c"), "-o", str(exe), "-lm"])
        proc = subprocess.run([str(exe), str(tmp_path / "rows.bin"), str(folder / "out.bin")],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0 and "runtime error" not in proc.stderr, proc.stderr[-2000:]
        out = np.frombuffer((folder / "out.bin").read_bytes(), dtype=rec)
        assert (out["c"] == c.predict_index(T)).all()
        for k, fn in enumerate(("decision_function", "score_samples")):
            np.testing.assert_array_equal(out["s"][:, k], c.call(fn, T)[:, 0])

