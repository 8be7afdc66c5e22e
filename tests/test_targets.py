"""Measurement layer: cross builds, emulation, exact counts, sizes, fit, tools."""

from __future__ import annotations

import importlib.util
import math
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from tinycodegen.errors import DataError, ToolMissingError

pytestmark = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None or importlib.util.find_spec("unicorn") is None,
    reason="needs arm-none-eabi-gcc (Debian gcc-arm-none-eabi) and unicorn (PyPI)",
)

MCU = ("cortex-m4f", "cortex-m0plus")


def _header(name: str, n_features: int, n_classes: int) -> str:
    up = name.upper()
    return f"""#ifndef {up}_H
#define {up}_H
#include <stdint.h>
#define {up}_N_FEATURES {n_features}
#define {up}_N_CLASSES {n_classes}
int32_t {name}_predict(const float *x);
void {name}_predict_proba(const float *x, float *out);
#endif
"""


ONE_HOT = """
void {name}_predict_proba(const float *x, float *out)
{{
    int32_t c = {name}_predict(x);
    for (int i = 0; i < {n}; ++i) {{
        out[i] = i == c ? 1.0f : 0.0f;
    }}
}}
"""

TREE3 = """#include "tree3.h"
static const float thr[3] = {0.5f, -0.25f, 1.5f};
int32_t tree3_predict(const float *x)
{
    if (x[0] != x[0]) {
        return -1;
    }
    if (x[0] <= thr[0]) {
        return x[1] <= thr[1] ? 0 : 1;
    }
    return x[2] <= thr[2] ? 1 : 2;
}
""" + ONE_HOT.format(name="tree3", n=3)

DOT4 = """#include "dot4.h"
#include <math.h>
static const float W[4] = {0.75f, -1.25f, 0.5f, 2.0f};
static float score(const float *x)
{
    float s = -0.125f;
    for (int i = 0; i < 4; ++i) {
        s += W[i] * x[i];
    }
    return s;
}
int32_t dot4_predict(const float *x)
{
    float s = score(x);
    if (s != s) {
        return -1;
    }
    return s > 0.0f ? 1 : 0;
}
void dot4_predict_proba(const float *x, float *out)
{
    float p = 1.0f / (1.0f + expf(-score(x)));
    out[0] = 1.0f - p;
    out[1] = p;
}
"""

# branchless integer min/max/abs: gcc -Os for Cortex-M4 emits IT blocks
ITMAX = """#include "itmax.h"
int32_t itmax_predict(const float *x)
{
    int32_t lo = INT32_MAX, hi = INT32_MIN, acc = 0;
    for (int i = 0; i < 8; ++i) {
        if (!(x[i] > -1000.0f && x[i] < 1000.0f)) {
            return -1;
        }
        int32_t q = (int32_t)(x[i] * 64.0f);
        lo = q < lo ? q : lo;
        hi = q > hi ? q : hi;
        acc += q < 0 ? -q : q;
    }
    int32_t span = hi - lo;
    return span > acc / 2 ? 2 : (lo < -40 ? 0 : 1);
}
""" + ONE_HOT.format(name="itmax", n=3)

TABLE = ", ".join(f"{math.sin(i / 9.0):.6f}f" for i in range(256))
TABLE1K = (
    """#include "table1k.h"
static const float T[256] = {TABLE};
int32_t table1k_predict(const float *x)
{
    if (!(x[0] > -4.0f && x[0] < 4.0f)) {
        return x[0] != x[0] ? -1 : 0;
    }
    int32_t i = (int32_t)((x[0] + 4.0f) * 32.0f);
    return x[1] > T[i] ? 1 : 0;
}
""".replace("TABLE", "{" + TABLE + "}")
    + ONE_HOT.format(name="table1k", n=2)
)

NOTHING = """#include "nothing.h"
int32_t nothing_predict(const float *x)
{
    (void)x;
    return 0;
}
void nothing_predict_proba(const float *x, float *out)
{
    (void)x;
    (void)out;
}
"""

BIG = """#include "big.h"
static const uint8_t BIG[600u * 1024u] = {1, 2, 3, 4};
int32_t big_predict(const float *x)
{
    float v = x[0] < 0.0f ? -x[0] : x[0];
    if (!(v < 1.0e6f)) {
        return -1;
    }
    return BIG[(uint32_t)(v * 7.0f) % sizeof BIG] & 1;
}
""" + ONE_HOT.format(name="big", n=2)

MODELS = {
    "tree3": (TREE3, 4, 3),
    "dot4": (DOT4, 4, 2),
    "itmax": (ITMAX, 8, 3),
    "table1k": (TABLE1K, 2, 2),
    "nothing": (NOTHING, 3, 2),
    "big": (BIG, 1, 2),
}


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    for name, (src, nf, nc) in MODELS.items():
        (root / f"{name}.c").write_text(src)
        (root / f"{name}.h").write_text(_header(name, nf, nc))
    return root


@pytest.fixture(scope="session")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def rows(name: str, n: int = 300, seed: int = 1) -> np.ndarray:
    X = np.random.default_rng(seed).normal(scale=1.5, size=(n, MODELS[name][1]))
    X = X.astype(np.float32)
    X[::97, 0] = np.nan  # rejected input -> -1
    return X


def host_predictions(models: Path, cache: Path, name: str, X: np.ndarray, n_classes: int = 0):
    from tinycodegen.targets.host import build_host, host_outputs

    return host_outputs(build_host(models, name, cache), X, n_classes)


def measure(models: Path, cache: Path, name: str, X: np.ndarray, target: str, **kw):
    from tinycodegen.targets import measure as _measure

    return _measure(models, name, X, target, cache_dir=cache, **kw)


@pytest.mark.parametrize("target", MCU)
@pytest.mark.parametrize("name", ["tree3", "dot4", "itmax", "table1k"])
def test_emulated_predictions_equal_host(models, cache, name, target):
    X = rows(name)
    m = measure(models, cache, name, X, target)
    expected = host_predictions(models, cache, name, X)
    np.testing.assert_array_equal(m.predictions, expected)
    assert (expected == -1).any() and len(set(expected.tolist())) >= 2
    assert m.rows == len(X) and m.sample_note is None and m.row_indices is None
    assert 0 < m.instr_mean <= m.instr_max
    assert m.cycles_range[0] <= m.cycles_mean <= m.cycles_range[1]
    assert m.fits and m.fit_note is None and m.details["unpriced"] == []


@pytest.mark.parametrize("target", MCU)
def test_predict_proba_equals_host(models, cache, target):
    X = rows("dot4", 100)
    X = X[~np.isnan(X).any(axis=1)]
    m = measure(models, cache, "dot4", X, target, function="predict_proba")
    expected = host_predictions(models, cache, "dot4", X, n_classes=2)
    np.testing.assert_allclose(m.predictions, expected, rtol=2e-7, atol=1e-7)
    assert m.details["function"] == "predict_proba" and m.instr_mean > 50  # expf


# x0 NaN | left-left | left-right | right-left | right-right
TREE3_ROWS = np.array(
    [[np.nan, 0, 0, 0], [0, -1, 0, 0], [0, 1, 0, 0], [1, 0, 0, 0], [1, 0, 2, 0]], np.float32
)
EXACT = {  # observed with gcc 12.2 -Os; a change here means codegen or accounting changed
    # M4F by hand, row 1: vldr 2, vcmp 1, vmrs 1, bne 1 | vmov 1, vcmpe 1, vmrs 1, bhi 1 |
    # vldr 2, vmov 1, vcmpe 1, vmrs 1, ite 1, movhi 1, movls 1, bx lr 1+P  -> 18+P = 20
    "cortex-m4f": ([6, 16, 16, 16, 16], [11, 20, 20, 22, 22]),
    "cortex-m0plus": ([36, 121, 119, 121, 123], [68, 193, 190, 193, 194]),
}


@pytest.mark.parametrize("target", MCU)
def test_exact_instruction_counts_are_deterministic(models, cache, target):
    from tinycodegen.targets.emulate import Emulator
    from tinycodegen.targets.toolchain import TARGET_SPECS

    first = measure(models, cache, "tree3", TREE3_ROWS, target)
    again = measure(models, cache, "tree3", TREE3_ROWS, target)
    assert (first.instr_mean, first.instr_max, first.cycles_mean, first.cycles_max) == (
        again.instr_mean,
        again.instr_max,
        again.cycles_mean,
        again.cycles_max,
    )
    spec = TARGET_SPECS[target]
    em = Emulator(Path(first.details["elf"]), spec.core, spec.uc_cpu, cache)
    res = em.run(TREE3_ROWS, "tree3_predict")
    instr, cyc = EXACT[target]
    assert res.instructions.tolist() == instr
    assert res.cycles(first.details["p"]).tolist() == cyc
    assert first.instr_max == max(instr) and first.cycles_max == max(cyc)
    np.testing.assert_array_equal(res.outputs, [-1, 0, 1, 1, 2])


def test_it_blocks_counted_like_per_instruction_reference(models, cache):
    from tinycodegen.targets.emulate import Emulator
    from tinycodegen.targets.reference import issued_stream, reference_counts
    from tinycodegen.targets.toolchain import TARGET_SPECS

    spec = TARGET_SPECS["cortex-m4f"]
    m = measure(models, cache, "itmax", rows("itmax", 8), "cortex-m4f")
    em = Emulator(Path(m.details["elf"]), spec.core, spec.uc_cpu, cache)
    X = rows("itmax", 7, seed=5)[1:]  # row 0 is NaN: rejected before any IT block
    fast = em.run(X, "itmax_predict")
    skipped = 0
    for i, row in enumerate(X):
        stream, hooked = issued_stream(em, "itmax_predict", row)
        assert any(insn.name == "it" for insn in stream)
        skipped += len(stream) - hooked
        instr, base, refills = reference_counts(em, "itmax_predict", row)
        assert (instr, base, refills) == (
            fast.instructions[i],
            fast.base_cycles[i],
            fast.refills[i],
        )
    assert skipped > 0  # IT instructions whose condition failed were present


@pytest.mark.parametrize("target", MCU)
@pytest.mark.parametrize("name", ["tree3", "dot4"])
def test_block_accounting_matches_reference(models, cache, name, target):
    from tinycodegen.targets.emulate import Emulator
    from tinycodegen.targets.reference import reference_counts
    from tinycodegen.targets.toolchain import TARGET_SPECS

    spec = TARGET_SPECS[target]
    X = rows(name, 5, seed=11)
    m = measure(models, cache, name, X, target)
    em = Emulator(Path(m.details["elf"]), spec.core, spec.uc_cpu, cache)
    fast = em.run(X, f"{name}_predict")
    for i, row in enumerate(X):
        ref = reference_counts(em, f"{name}_predict", row)
        assert ref == (fast.instructions[i], fast.base_cycles[i], fast.refills[i])


@pytest.mark.parametrize("target", MCU)
def test_stub_model_is_zero_and_const_table_is_counted(models, cache, target):
    nothing = measure(models, cache, "nothing", rows("nothing", 5), target)
    assert (nothing.flash_bytes, nothing.ram_bytes) == (0, 0)
    table = measure(models, cache, "table1k", rows("table1k", 5), target)
    assert table.flash_bytes >= 1024 and table.ram_bytes == 0
    assert table.details["sections"][".rodata"] >= 1024


def test_m0plus_float_model_pulls_in_soft_float(models, cache):
    X = rows("dot4", 20)
    m4 = measure(models, cache, "dot4", X, "cortex-m4f")
    m0 = measure(models, cache, "dot4", X, "cortex-m0plus")
    assert m0.flash_bytes > m4.flash_bytes
    assert m0.instr_mean > 3 * m4.instr_mean
    from elftools.elf.elffile import ELFFile

    with open(m0.details["elf"], "rb") as fh:
        names = {s.name for s in ELFFile(fh).get_section_by_name(".symtab").iter_symbols()}
    assert {"__aeabi_fmul", "__aeabi_fadd"} <= names


def test_oversize_model_does_not_fit(models, cache):
    X = rows("big", 20)
    m = measure(models, cache, "big", X, "cortex-m4f")
    assert not m.fits
    assert re.match(r"does not fit \((\d+) bytes > 524288\)", m.fit_note)
    assert m.flash_bytes >= 600 * 1024
    np.testing.assert_array_equal(m.predictions, host_predictions(models, cache, "big", X))


def test_stratified_sample_is_fixed_and_reported(models, cache):
    from tinycodegen.targets.sampling import stratified_sample

    labels = np.array([0] * 80 + [1] * 15 + [2] * 5)
    a, b = stratified_sample(labels, 20, seed=3), stratified_sample(labels, 20, seed=3)
    np.testing.assert_array_equal(a, b)
    assert np.bincount(labels[a]).tolist() == [16, 3, 1]
    X = rows("tree3", 200)
    m = measure(models, cache, "tree3", X, "cortex-m0plus", max_rows=40)
    assert m.rows == 40 and len(m.row_indices) == 40 and "sample of 40 of 200" in m.sample_note
    full = host_predictions(models, cache, "tree3", X)
    np.testing.assert_array_equal(m.predictions, full[m.row_indices])


def test_instruction_budget_measures_a_fixed_stratified_prefix(models, cache):
    from tinycodegen.targets.rows import stratified_order

    labels = np.array([0] * 70 + [1] * 30)
    order = stratified_order(labels, seed=2)
    assert sorted(order.tolist()) == list(range(100))
    assert [int(labels[order[:k]].sum()) for k in (10, 50)] == [3, 15]
    X = rows("tree3", 300)
    full = measure(models, cache, "tree3", X, "cortex-m4f")
    per_row = full.instr_mean
    small = measure(models, cache, "tree3", X, "cortex-m4f", budget=int(per_row * 40))
    again = measure(models, cache, "tree3", X, "cortex-m4f", budget=int(per_row * 40))
    big = measure(models, cache, "tree3", X, "cortex-m4f", budget=int(per_row * 120))
    assert 40 <= small.rows < big.rows < len(X)
    np.testing.assert_array_equal(small.row_indices, again.row_indices)
    assert small.instr_mean == again.instr_mean and small.cycles_mean == again.cycles_mean
    assert set(small.row_indices.tolist()) <= set(big.row_indices.tolist())
    assert f"sample of {small.rows} of 300 rows" in small.sample_note
    host = host_predictions(models, cache, "tree3", X)
    np.testing.assert_array_equal(small.predictions, host[small.row_indices])
    everything = measure(models, cache, "tree3", X, "cortex-m4f", budget=int(per_row * 1000))
    assert everything.row_indices is None and everything.sample_note is None
    np.testing.assert_array_equal(everything.predictions, host)
    assert everything.instr_mean == full.instr_mean


def test_host_measurement(models, cache):
    if shutil.which("valgrind") is None:
        pytest.skip("valgrind not installed")
    X = rows("tree3", 400)
    m = measure(models, cache, "tree3", X, "host")
    np.testing.assert_array_equal(m.predictions, host_predictions(models, cache, "tree3", X))
    assert 3 < m.instr_mean <= m.instr_max < 100 and m.ns_per_inference > 0
    assert m.flash_bytes is None and m.cycles_mean is None and m.fits


def test_wrong_feature_count_is_a_data_error(models, cache):
    with pytest.raises(DataError, match="expects 4 features"):
        measure(models, cache, "tree3", np.zeros((3, 5), np.float32), "cortex-m4f")


def test_missing_tools_name_the_package(models, cache, monkeypatch):
    from tinycodegen.targets import toolchain

    monkeypatch.setattr(toolchain, "CROSS_GCC", "arm-none-eabi-gcc-not-installed")
    with pytest.raises(ToolMissingError, match="gcc-arm-none-eabi"):
        measure(models, cache, "tree3", rows("tree3", 5), "cortex-m4f")
    if shutil.which("valgrind"):  # host measurements do not need the cross tools
        assert measure(models, cache, "tree3", rows("tree3", 5), "host").rows == 5
    monkeypatch.undo()
    monkeypatch.setitem(sys.modules, "unicorn", None)
    with pytest.raises(ToolMissingError, match="pip install unicorn"):
        measure(models, cache, "tree3", rows("tree3", 5), "cortex-m0plus")
    monkeypatch.setattr(toolchain.shutil, "which", lambda _name: None)
    with pytest.raises(ToolMissingError, match="Debian package valgrind"):
        measure(models, cache, "tree3", rows("tree3", 5), "host")


def test_python_block_hook_fallback_counts_the_same(models, cache, monkeypatch):
    from tinycodegen.targets import tracer
    from tinycodegen.targets.emulate import Emulator
    from tinycodegen.targets.toolchain import TARGET_SPECS

    spec = TARGET_SPECS["cortex-m0plus"]
    X = rows("dot4", 30, seed=3)
    m = measure(models, cache, "dot4", X, "cortex-m0plus")
    monkeypatch.setattr(tracer, "_hook_library", lambda _cache: None)
    em = Emulator(Path(m.details["elf"]), spec.core, spec.uc_cpu, cache, trace_capacity=256)
    assert not em.tracer.native
    res = em.run(X, "dot4_predict")  # small buffer: flushes, row retries
    assert res.instructions.mean() == m.instr_mean and res.cycles(1).max() == m.cycles_max
    np.testing.assert_array_equal(res.outputs, m.predictions)
