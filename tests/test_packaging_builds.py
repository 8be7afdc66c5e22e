"""The packages build for real: CMake on the host (a C++ consumer linking two models) and for
Cortex-M with the package's toolchain file, the Arduino library's example for an Uno with
Debian's arduino-builder, and tcg_csv.h (the sketches' text parser) exact on the host and on
the AVR under simavr."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.tree import DecisionTreeClassifier

import tinycodegen
from tinycodegen.core.csource import c_string
from tinycodegen.core.runtime import runtime_files
from tinycodegen.packaging.arduino_build import build_sketch
from tinycodegen.targets.avr import run_simavr

STRICT = ["-Wall", "-Wextra", "-Wpedantic", "-Wconversion", "-Wdouble-promotion", "-Werror"]


def run(cmd: list[str], **kw: object) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)  # type: ignore
    assert done.returncode == 0, " ".join(cmd) + "\n" + done.stdout + done.stderr
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def two_models(nsl_train):
    """A depth-6 tree and a scaled logistic regression on NSL-KDD (different runtimes)."""
    rows = np.random.default_rng(0).choice(len(nsl_train.y), 20_000, replace=False)
    X, y = nsl_train.X[rows], nsl_train.y[rows]
    dt = DecisionTreeClassifier(max_depth=6, random_state=0).fit(X, y)
    lr = make_pipeline(MinMaxScaler(), LogisticRegression(max_iter=2000)).fit(X, y)
    return tinycodegen.compile(dt, name="pkg_dt"), tinycodegen.compile(lr, name="pkg_lr")


CONSUMER_CMAKE = """cmake_minimum_required(VERSION 3.13)
project(consumer CXX)
add_subdirectory("{a}" pkg_dt)
add_subdirectory("{b}" pkg_lr)
add_executable(consumer main.cpp)
set_target_properties(consumer PROPERTIES CXX_STANDARD 11 CXX_STANDARD_REQUIRED ON
                      CXX_EXTENSIONS OFF)
target_compile_options(consumer PRIVATE -Wall -Wextra -Wpedantic -Wconversion -Werror)
target_link_libraries(consumer PRIVATE pkg_dt pkg_lr)
"""

CONSUMER_CPP = """// C++11, linking two tinycodegen models: one line "dt lr" per float32 row.
#include <cstdio>
#include "pkg_dt.h"
#include "pkg_lr.h"

static_assert(PKG_DT_N_FEATURES == PKG_LR_N_FEATURES, "both models take the same row");

int main(int argc, char **argv)
{
    if (argc != 2) {
        return 2;
    }
    std::FILE *f = std::fopen(argv[1], "rb");
    if (f == nullptr) {
        return 2;
    }
    float x[PKG_DT_N_FEATURES];
    while (std::fread(x, sizeof x[0], PKG_DT_N_FEATURES, f) == PKG_DT_N_FEATURES) {
        std::printf("%d %d\\n", static_cast<int>(pkg_dt_predict(x)),
                    static_cast<int>(pkg_lr_predict(x)));
    }
    std::fclose(f);
    return 0;
}
"""


def test_cmake_cpp_consumer_links_two_models(two_models, nsl_test, tmp_path: Path) -> None:
    from helpers import sklearn_index

    for c in two_models:
        c.write(tmp_path / c.name, format="cmake")
    app = tmp_path / "app"
    app.mkdir()
    (app / "CMakeLists.txt").write_text(
        CONSUMER_CMAKE.format(a=tmp_path / "pkg_dt", b=tmp_path / "pkg_lr"))
    (app / "main.cpp").write_text(CONSUMER_CPP)
    run(["cmake", "-S", str(app), "-B", str(tmp_path / "build")])
    run(["cmake", "--build", str(tmp_path / "build")])
    X = nsl_test.X[np.random.default_rng(1).choice(len(nsl_test.y), 400, replace=False)]
    (tmp_path / "rows.bin").write_bytes(np.ascontiguousarray(X, dtype="<f4").tobytes())
    out = run([str(tmp_path / "build" / "consumer"), str(tmp_path / "rows.bin")])
    got = np.array([line.split() for line in out.splitlines()], dtype=int)
    assert got.shape == (400, 2)
    for col, c in enumerate(two_models):
        assert (got[:, col] == sklearn_index(c.model, X)).all(), c.name
    assert len(set(got[:, 0])) == 2 and len(set(got[:, 1])) == 2


@pytest.mark.parametrize("flags,arch", [(None, "v7E-M"), ("-mcpu=cortex-m0plus -mthumb", "v6S-M")])
def test_cmake_cross_builds_for_cortex_m(two_models, tmp_path: Path, flags, arch) -> None:
    pkg = tmp_path / "pkg_lr"
    two_models[1].write(pkg, format="cmake")
    cmd = ["cmake", "-S", str(pkg), "-B", str(tmp_path / "b"),
           f"-DCMAKE_TOOLCHAIN_FILE={pkg / 'cmake' / 'arm-none-eabi.cmake'}"]
    if flags:
        cmd.append(f"-DTCG_ARM_FLAGS={flags}")
    run(cmd)
    run(["cmake", "--build", str(tmp_path / "b")])
    attrs = run(["arm-none-eabi-readelf", "-A", str(tmp_path / "b" / "libpkg_lr.a")])
    assert f"Tag_CPU_arch: {arch}" in attrs
    assert ("Tag_ABI_VFP_args: VFP registers" in attrs) == (flags is None)  # M4F: hard float


def test_arduino_serial_example_builds_for_uno(two_models, tmp_path: Path) -> None:
    libs = tmp_path / "libraries"
    two_models[0].write(libs / "pkg_dt", format="arduino")
    elf = build_sketch(libs / "pkg_dt" / "examples" / "pkg_dt_serial", tmp_path / "out",
                       libraries=(libs,))
    sizes = run(["avr-size", str(elf)]).splitlines()[1].split()
    assert int(sizes[0]) + int(sizes[1]) <= 32256  # flash: text + data, Uno's 32 KB - boot
    assert int(sizes[1]) + int(sizes[2]) <= 2048  # RAM: data + bss


def value_texts(nsl_test) -> list[str]:
    """Texts in the exact class of tcg_csv.h: KDDTest+ values as NumPy prints them, decimals
    of at most 7 digits times 1e-10..1e10, integers below 2^32, signs and zeros."""
    rng = np.random.default_rng(3)
    uniq = np.unique(nsl_test.X)
    texts = [str(v) for v in uniq[rng.choice(len(uniq), 250, replace=False)]]
    mant, exp10 = rng.integers(1, 10**7, 100), rng.integers(-10, 11, 100)
    texts += [f"{m}e{e}" for m, e in zip(mant, exp10, strict=True)]
    texts += [str(int(v)) for v in rng.integers(2**24, 2**32, 30)]
    texts += ["-0.0", "0", "+3.5", "-1.25e-3", "4294967295", "16777217", "0.1", "1E+3"]
    return texts


def expected_bits(texts: list[str]) -> list[str]:
    return [f"{int(np.float32(t).view(np.uint32)):X}" for t in texts]


def test_csv_parser_is_exact_on_the_host_as_c_and_cpp(nsl_test, tmp_path: Path) -> None:
    (tmp_path / "tcg_csv.h").write_text(runtime_files(("tcg_csv.h",))["tcg_csv.h"])
    (tmp_path / "p.c").write_text(
        '#include <stdio.h>\n#include <string.h>\n#include "tcg_csv.h"\n'
        "int main(void)\n{\n    char line[128];\n    float x[3];\n"
        "    while (fgets(line, (int)sizeof line, stdin) != NULL) {\n"
        '        const int32_t n = tcg_csv_row(line, x, 3);\n        uint32_t u[3] = {0u};\n'
        "        memcpy(u, x, sizeof u);\n"
        '        printf("%ld %lX %lX %lX\\n", (long)n, (unsigned long)u[0], (unsigned long)u[1],'
        " (unsigned long)u[2]);\n    }\n    return 0;\n}\n")
    rng = np.random.default_rng(4)
    texts = value_texts(nsl_test)
    texts += [str(v) for v in rng.integers(0, 2**31, 200).astype(np.uint32).view(np.float32)
              if np.isfinite(v)]  # any float32's shortest text (strtod on the host)
    rows = [", ".join(texts[i:i + 3]) for i in range(0, len(texts) - 2, 3)]
    feed = "\n".join(rows + ["1,nan,-Inf", "1,2", "1,x,3", "1,2,3,4"]) + "\n"
    for compiler in (["gcc", "-std=c99"], ["g++", "-std=c++11", "-x", "c++"]):
        exe = tmp_path / compiler[0]
        run([*compiler, *STRICT, str(tmp_path / "p.c"), "-o", str(exe)])
        out = run([str(exe)], input=feed).splitlines()
        want = [" ".join(["3", *expected_bits(texts[i:i + 3])]) for i in range(0, len(rows) * 3, 3)]
        assert out[: len(rows)] == want
        assert out[len(rows)] == "3 3F800000 7FC00000 FF800000"
        assert [o.split()[0] for o in out[len(rows) + 1:]] == ["2", "-2", "4"]


AVR_SKETCH = """#include <avr/pgmspace.h>
#include <avr/sleep.h>
#include <string.h>
#include "tcg_csv.h"
#include "values.h"

void setup()
{
    static char buf[TCG_CSV_MAX_CHARS + 1];
    Serial.begin(115200);
    for (uint16_t i = 0; i < N_VALUES; ++i) {
        float v = 0.0f;
        uint32_t u = 0;
        strcpy_P(buf, (PGM_P)pgm_read_word(&values[i]));
        if (tcg_csv_value(buf, (uint32_t)strlen(buf), &v)) {
            memcpy(&u, &v, sizeof u);
        }
        Serial.print(u, HEX);
        Serial.print('\\n');
    }
    Serial.print("END\\n");
    Serial.flush();
    cli();
    sleep_enable();
    sleep_cpu();
}

void loop()
{
}
"""


def test_csv_parser_is_exact_on_the_avr(nsl_test, tmp_path: Path) -> None:
    texts = value_texts(nsl_test)
    sketch = tmp_path / "parse"
    sketch.mkdir()
    (sketch / "parse.ino").write_text(AVR_SKETCH)
    (sketch / "tcg_csv.h").write_text(runtime_files(("tcg_csv.h",))["tcg_csv.h"])
    decls = [f"static const char v{i}[] PROGMEM = {c_string(t)};" for i, t in enumerate(texts)]
    table = ", ".join(f"v{i}" for i in range(len(texts)))
    (sketch / "values.h").write_text("\n".join(
        [f"#define N_VALUES {len(texts)}u", *decls,
         f"static const char *const values[N_VALUES] PROGMEM = {{{table}}};", ""]))
    lines = run_simavr(build_sketch(sketch, tmp_path / "out"), timeout=120)
    assert lines[-1] == "END"
    assert lines[:-1] == expected_bits(texts)


@pytest.fixture(scope="module")
def example_models(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("models")  # run_example.py trains each model once here


@pytest.mark.parametrize("fmt,rows", [("make", 30), ("cmake", 30), ("arduino", 40)])
def test_firmware_example_runs_in_one_command(fmt: str, rows: int, example_models: Path,
                                              tmp_path: Path) -> None:
    """examples/firmware/run_example.py: README's model (Uno: a depth-5 tree) on KDDTest+ rows,
    under QEMU (Cortex-M4F) or simavr (Uno); every printed prediction equals the host C."""
    script = Path(__file__).resolve().parents[1] / "examples" / "firmware" / "run_example.py"
    model = example_models / ("dt.joblib" if fmt == "arduino" else "rf.joblib")
    out = run([sys.executable, str(script), fmt, "--rows", str(rows), "--model", str(model),
               "--build", str(tmp_path / "build")])
    assert f"{fmt}: {rows} of {rows} predictions equal the host C; host C equals sklearn on " \
           f"{rows} of {rows}" in out


SERIAL_MOCK = """// The Arduino API the serial sketch uses, on the host: Serial = stdin / stdout.
#include <cstdint>
#include <cstdio>
#include <string>
class __FlashStringHelper;
#define F(s) reinterpret_cast<const __FlashStringHelper *>(s)
static unsigned long fake_us = 0;
unsigned long micros() { return fake_us += 4u; }
struct SerialMock {
    std::string in;
    std::size_t pos = 0;
    void begin(long) {}
    int available() { return pos < in.size() ? 1 : 0; }
    int read() { return static_cast<unsigned char>(in[pos++]); }
    void print(const __FlashStringHelper *s)
    {
        std::fputs(reinterpret_cast<const char *>(s), stdout);
    }
    void print(const char *s) { std::fputs(s, stdout); }
    void print(char c) { std::putchar(c); }
    void print(int v) { std::printf("%d", v); }
    void print(unsigned long v) { std::printf("%lu", v); }
    void println(const __FlashStringHelper *s) { print(s); std::putchar('\\n'); }
} Serial;
#include "sketch.inc"
int main()
{
    int c;
    while ((c = std::getchar()) != EOF) {
        Serial.in.push_back(static_cast<char>(c));
    }
    setup();
    loop();
    return 0;
}
"""


def test_arduino_serial_example_answers_rows(nsl_train, nsl_test, tmp_path: Path) -> None:
    """The NAME_serial sketch, compiled as C++11 against a host stand-in for Serial: one answer
    per row (label from the header, time), errors for malformed rows, labels = host C."""
    y = np.where(nsl_train.y == 1, "attack", "normal")
    model = DecisionTreeClassifier(max_depth=5, random_state=0).fit(nsl_train.X, y)
    compiled = tinycodegen.compile(model, name="ser_dt")
    compiled.write(tmp_path / "lib", format="arduino")
    src = tmp_path / "lib" / "src"
    (src / "sketch.inc").write_text(
        (tmp_path / "lib" / "examples" / "ser_dt_serial" / "ser_dt_serial.ino").read_text())
    (src / "mock.cpp").write_text(SERIAL_MOCK)
    run(["gcc", "-std=c99", *STRICT, "-c", str(src / "ser_dt.c"), "-o", str(tmp_path / "m.o")])
    run(["g++", "-std=c++11", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter",
         f"-I{src}", str(src / "mock.cpp"), str(tmp_path / "m.o"), "-o", str(tmp_path / "ser")])
    X = nsl_test.X[:30]
    rows = [",".join(str(v) for v in r) for r in X]
    feed = "\r\n".join(rows[:10]) + "\r\n\n" + "\n".join(rows[10:]) + "\n1,2,3\n"
    feed += ",".join(["x"] * 41) + "\n" + ",".join(["inf"] * 41) + "\n"
    out = run([str(tmp_path / "ser")], input=feed).splitlines()
    assert out[0] == "ser_dt: send 41 comma-separated features per line"
    want = [f"{compiled.classes[i]} 4 us" for i in compiled.predict_index(X)]
    assert out[1:31] == want and {w.split()[0] for w in want} == {"attack", "normal"}
    assert out[31] == "error: need 41 numbers, got 3"
    assert out[32] == "error: need 41 numbers, got 41 (some not a number)"
    assert out[33:] == ["rejected (NaN or inf) 4 us"]
