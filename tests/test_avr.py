"""The ATmega328P (Arduino Uno) target: avr-gcc builds, simavr runs, every prediction checked.

RF 10x8 on raw NSL-KDD features (no scaler, as an emlearn user feeds a forest) and a depth-8
tree, table backend: a few hundred KDDTest+ rows plus every row that takes the forest's exact
binary64 fallback (integer arithmetic on AVR, tcg_f64.h) equal the host C and sklearn, in
predict and predict_proba (float32 bits). emlearn's float forest runs under the same harness.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.tree import DecisionTreeClassifier

import tinycodegen
from c_double import _library
from helpers import fit_quietly, sklearn_index
from tinycodegen.targets import measure
from tinycodegen.targets.sampling import stratified_sample

pytestmark = pytest.mark.skipif(
    any(shutil.which(t) is None for t in ("avr-gcc", "simavr")),
    reason="needs gcc-avr, avr-libc and simavr (Debian); CI installs them",
)
TARGET = "atmega328p"


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("avr-cache")


@pytest.fixture(scope="module")
def rows(example_forest, nsl_test) -> np.ndarray:
    """240 stratified KDDTest+ rows, then rows whose forest vote takes the exact binary64 path
    (none of KDDTest+ does: found among rows mixed feature by feature from KDDTest+ rows)."""
    X = nsl_test.X.astype(np.float32)
    ir = tinycodegen.compile(example_forest, name="rf").ir
    rng = np.random.default_rng(5)
    mixed = X[rng.integers(0, len(X), (60_000, X.shape[1])), np.arange(X.shape[1])]
    fallback = mixed[ir.reference(mixed).fallback][:24]
    assert len(fallback) >= 10
    return np.concatenate([X[stratified_sample(nsl_test.y, 240, seed=3)], fallback])


def _write(compiled, tmp_path: Path) -> Path:
    out = tmp_path / f"{compiled.name}_{compiled.source.backend}"
    compiled.write(out)
    return out


def test_forest_and_tree_on_avr_equal_host_and_sklearn(example_forest, nsl_train, rows, cache,
                                                       tmp_path):
    dt = DecisionTreeClassifier(max_depth=8, random_state=0).fit(nsl_train.X, nsl_train.y)
    for model, name in ((example_forest, "rf"), (dt, "dt")):
        compiled = tinycodegen.compile(model, name=name)
        folder = _write(compiled, tmp_path)
        m = measure(folder, name, rows, TARGET, cache_dir=cache)
        host = compiled.predict_index(rows)
        assert m.rows == len(rows) and m.row_indices is None and m.fits, m.fit_note
        np.testing.assert_array_equal(m.predictions, host)
        np.testing.assert_array_equal(m.predictions, sklearn_index(model, rows))
        assert m.ram_bytes == 0  # every table in flash (TCG_ROM)
        assert 0 < m.flash_bytes < 32 << 10 and 0 < m.stack_bytes < 1024  # of 2 KB
        assert 0 < m.cycles_mean <= m.cycles_max


def test_forest_proba_on_avr_is_bitwise_the_host_float64_replay(example_forest, rows, cache,
                                                                tmp_path):
    compiled = tinycodegen.compile(example_forest, name="rf")
    X = np.concatenate([rows[:24], rows[-24:]])  # the last 24 take the exact path
    m = measure(_write(compiled, tmp_path), "rf", X, TARGET, cache_dir=cache,
                function="predict_proba")
    want = compiled.predict_proba(X).astype(np.float32)
    np.testing.assert_array_equal(m.predictions.view(np.uint32), want.view(np.uint32))
    sk = example_forest.predict_proba(X.astype(np.float64)).astype(np.float32)
    np.testing.assert_array_equal(m.predictions, sk)


def test_soft_binary64_build_on_host_equals_double_build(example_forest, nsl_test, rows):
    """The same forest C with TCG_F64_SOFT forced on the host: predict_proba bit for bit."""
    compiled = tinycodegen.compile(example_forest, name="rf")
    glue = ('#include <stddef.h>\n#include "rf.h"\n'
            "void t_proba(const float *x, float *o, size_t n)\n"
            "{ size_t i; for (i = 0; i < n; ++i) { rf_predict_proba(x + 41 * i, o + 2 * i); } }\n"
            "void t_pred(const float *x, int32_t *o, size_t n)\n"
            "{ size_t i; for (i = 0; i < n; ++i) { o[i] = rf_predict(x + 41 * i); } }\n")
    X = np.ascontiguousarray(nsl_test.X[:3000].astype(np.float32))
    X = np.ascontiguousarray(np.concatenate([X, rows]))
    outs = []
    for flags in ((), ("-DTCG_F64_SOFT=1",)):
        lib = _library(compiled.source.files, glue, flags=flags)
        proba = np.zeros((len(X), 2), np.float32)
        pred = np.zeros(len(X), np.int32)
        n = ctypes.c_size_t(len(X))
        lib.t_proba(ctypes.c_void_p(X.ctypes.data), ctypes.c_void_p(proba.ctypes.data), n)
        lib.t_pred(ctypes.c_void_p(X.ctypes.data), ctypes.c_void_p(pred.ctypes.data), n)
        outs.append((proba, pred))
    np.testing.assert_array_equal(outs[0][0].view(np.uint32), outs[1][0].view(np.uint32))
    np.testing.assert_array_equal(outs[0][1], outs[1][1])
    np.testing.assert_array_equal(outs[1][1], compiled.predict_index(X))


def test_speed_layout_fits_and_runs_on_avr(example_forest, rows, cache, tmp_path):
    """The speed layout on the Uno (some trees as code, the rest on packed records, an exponent
    byte check of the input): predict equals the host C and sklearn on the stratified and the
    exact-fallback rows; +-inf is rejected (-1) and NaN routed as on the host; predict_proba
    bit for bit."""
    compiled = tinycodegen.compile(example_forest, name="rfs", optimize="speed")
    assert compiled.source.backend == "speed"
    special = rows[:6].copy()
    for i, (col, val) in enumerate(((0, np.inf), (40, -np.inf), (17, np.inf), (4, np.nan),
                                    (22, np.nan), (40, np.nan))):
        special[i, col] = val
    X = np.concatenate([rows, special])
    folder = _write(compiled, tmp_path)
    m = measure(folder, "rfs", X, TARGET, cache_dir=cache)
    assert m.rows == len(X) and m.fits, m.fit_note
    host = compiled.predict_index(X)
    np.testing.assert_array_equal(m.predictions, host)
    np.testing.assert_array_equal(host[-6:-3], [-1, -1, -1])
    np.testing.assert_array_equal(m.predictions[:len(rows)], sklearn_index(example_forest, rows))
    assert m.ram_bytes == 0 and 0 < m.flash_bytes < 32 << 10 and 0 < m.stack_bytes < 1024
    P = np.concatenate([rows[:12], rows[-12:]])
    mp = measure(folder, "rfs", P, TARGET, cache_dir=cache, function="predict_proba")
    want = example_forest.predict_proba(P.astype(np.float64)).astype(np.float32)
    np.testing.assert_array_equal(mp.predictions.view(np.uint32), want.view(np.uint32))


def test_speed_layout_on_avr_multiclass_keys_and_nan_equal_host(cache, tmp_path):
    """A 3-class forest with negative thresholds (ordered keys, not raw bits), trained with NaN
    (routed left at some nodes) and larger than the AVR code budget (some trees walk the packed
    records below their hot nodes): predict and predict_proba on the Uno equal the host C."""
    from sklearn.ensemble import RandomForestClassifier

    from tinycodegen.families.trees.emit_common import nan_left_used
    from tinycodegen.families.trees.emit_speed import AVR_INLINE_NODES

    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 6)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
    X[rng.random(X.shape) < 0.05] = np.nan
    rf = RandomForestClassifier(12, max_depth=6, random_state=0).fit(X, y)
    compiled = tinycodegen.compile(rf, name="rfk", optimize="speed")
    assert compiled.ir.n_nodes > AVR_INLINE_NODES and not compiled.ir.raw_bits_ok
    assert nan_left_used(compiled.ir)
    T = rng.normal(size=(150, 6)).astype(np.float32)
    T[rng.random(T.shape) < 0.1] = np.nan
    T[:3, 2] = (np.inf, -np.inf, np.inf)
    folder = _write(compiled, tmp_path)
    m = measure(folder, "rfk", T, TARGET, cache_dir=cache)
    assert m.fits and m.rows == len(T)
    np.testing.assert_array_equal(m.predictions, compiled.predict_index(T))
    np.testing.assert_array_equal(m.predictions[3:], sklearn_index(rf, T[3:]))
    mp = measure(folder, "rfk", T[3:40], TARGET, cache_dir=cache, function="predict_proba")
    want = compiled.predict_proba(T[3:40]).astype(np.float32)
    np.testing.assert_array_equal(mp.predictions.view(np.uint32), want.view(np.uint32))


def test_int8_models_on_avr_equal_host(example_forest, nsl_train, rows, cache, tmp_path):
    """Quantized tables in flash; the int8 MLP's probabilities bit for bit (a 16-bit int
    shift in the requantization once changed nearly every row on AVR)."""
    qrf = tinycodegen.compile(example_forest, name="qrf", quantize="int8")
    m = measure(_write(qrf, tmp_path), "qrf", rows[:120], TARGET, cache_dir=cache)
    np.testing.assert_array_equal(m.predictions, qrf.predict_index(rows[:120]))
    assert m.fits and m.ram_bytes == 0
    with np.errstate(all="ignore"):
        mlp = fit_quietly(Pipeline([("s", MinMaxScaler()), ("m", MLPClassifier(
            (16,), max_iter=60, random_state=0))]), nsl_train.X[:5000], nsl_train.y[:5000])
    qm = tinycodegen.compile(mlp, name="qm", quantize="int8")
    X = rows[:100]
    m = measure(_write(qm, tmp_path), "qm", X, TARGET, cache_dir=cache,
                function="predict_proba")
    want = qm.predict_proba(X).astype(np.float32)
    np.testing.assert_array_equal(m.predictions.view(np.uint32), want.view(np.uint32))
    assert m.fits and m.ram_bytes < 1024  # the weights in flash


def test_emlearn_forest_under_the_same_harness(example_forest, rows, cache, tmp_path):
    compiled = tinycodegen.compile(example_forest, name="rf", backend="emlearn")
    X = rows[:96]
    m = measure(_write(compiled, tmp_path), "rf", X, TARGET, cache_dir=cache)
    np.testing.assert_array_equal(m.predictions, compiled.predict_index(X))
    assert m.fits and m.ram_bytes == 0 and m.cycles_mean > 0


def test_oversized_model_is_sized_not_run(example_forest, rows, cache, tmp_path):
    compiled = tinycodegen.compile(example_forest, name="rf", backend="inline")
    m = measure(_write(compiled, tmp_path), "rf", rows[:4], TARGET, cache_dir=cache)
    assert not m.fits and m.predictions is None and m.cycles_mean is None
    assert m.fit_note.startswith("does not fit: ") and "B of flash > 32,768" in m.fit_note
    assert m.flash_bytes > 32 << 10


def test_double_models_stop_the_avr_build_with_a_clear_error(nsl_train, tmp_path):
    lr = fit_quietly(LogisticRegression(max_iter=200), nsl_train.X[:2000], nsl_train.y[:2000])
    compiled = tinycodegen.compile(lr, name="lr")
    folder = _write(compiled, tmp_path)
    proc = subprocess.run(["avr-gcc", "-mmcu=atmega328p", "-Os", "-std=c99", "-c", "lr.c",
                           "-o", "lr.o"], cwd=folder, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "computes in IEEE binary64 but this compiler's double is narrower" in proc.stderr


ENDLESS = r"""
#include <avr/io.h>
#include <stdint.h>
static void put(char c) { while ((UCSR0A & (1u << UDRE0)) == 0u) {} UDR0 = (uint8_t)c; }
int main(void)
{
    uint8_t i = 0u;
    UBRR0 = 0u; UCSR0A = (uint8_t)(1u << U2X0); UCSR0B = (uint8_t)(1u << TXEN0);
    UCSR0C = (uint8_t)(3u << UCSZ00);
    for (;;) { put('t'); put((char)('0' + (i++ % 10u))); put('\n'); }
}
"""


def test_run_simavr_stops_an_endless_sketch(tmp_path):
    from tinycodegen.targets.avr import run_simavr

    (tmp_path / "loop.c").write_text(ENDLESS)
    subprocess.run(["avr-gcc", "-mmcu=atmega328p", "-Os", "-o", "loop.elf", "loop.c"],
                   cwd=tmp_path, check=True)
    assert run_simavr(tmp_path / "loop.elf", until="t3", timeout=30) == ["t0", "t1", "t2", "t3"]
    lines = run_simavr(tmp_path / "loop.elf", timeout=1)  # no marker: what it printed
    assert len(lines) > 10 and lines[:2] == ["t0", "t1"]
