"""Helpers of test_strings.py and test_names.py: a small C lexer, a probe that prints the
header's strings, builds with gcc (C99) and g++ (C++11) under -Werror, the object files' exported
symbols, and small models whose every string field is given."""

from __future__ import annotations

import re
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, OrdinalEncoder

from helpers import STRICT

CXX_STRICT = ["-std=c++11", *[f for f in STRICT if f != "-std=c99"], "-x", "c++"]


def lex(text: str) -> list[tuple[str, str]]:
    """C text as (kind, text) pieces: "comment", "string" (with quotes), "char", "code"."""
    out: list[tuple[str, str]] = []
    i, n, start = 0, len(text), 0

    def flush(j: int) -> None:
        if j > start:
            out.append(("code", text[start:j]))

    while i < n:
        two = text[i : i + 2]
        if two in ("/*", "//"):
            flush(i)
            end = text.find("*/", i + 2) + 2 if two == "/*" else text.find("\n", i)
            end = n if end < i + 2 else end
            out.append(("comment", text[i:end]))
            i = start = end
        elif text[i] in "\"'":
            flush(i)
            q, j = text[i], i + 1
            while text[j] != q:
                j += 2 if text[j] == "\\" else 1
            out.append(("string" if q == '"' else "char", text[i : j + 1]))
            i = start = j + 1
        else:
            i += 1
    flush(n)
    return out


_ESC = re.compile(r'\\([0-7]{1,3}|["\\?\'abfnrtv])')
_SIMPLE = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}


def literal_bytes(lit: str) -> bytes:
    """The bytes a C string literal (with its quotes) stands for."""
    body, out, i = lit[1:-1], bytearray(), 0
    while i < len(body):
        m = _ESC.match(body, i)
        if m:
            e = m.group(1)
            out.append(int(e, 8) if e[0] in "01234567" else _SIMPLE.get(e, ord(e)))
            i = m.end()
        else:
            assert body[i] != "\\", f"unknown escape in {lit!r}"
            out.append(ord(body[i]))
            i += 1
    return bytes(out)


def probe_c(name: str, macros: list[str]) -> str:
    """main() printing, per macro (an initializer list of strings), one line per string:
    '<macro> <hex bytes>'."""
    lines = ["#include <stdio.h>", f'#include "{name}.h"',
             "static void put(const char *tag, const char *s)",
             "{", "    printf(\"%s \", tag);",
             "    while (*s) { printf(\"%02x\", (unsigned)(unsigned char)*s); ++s; }",
             "    printf(\"\\n\");", "}", "int main(void)", "{", "    unsigned i;"]
    for m in macros:
        lines += ["    {", f"        static const char *const v[] = {m};",
                  "        for (i = 0; i < sizeof v / sizeof v[0]; ++i) {",
                  f'            put("{m}", v[i]);', "        }", "    }"]
    return "\n".join(lines + ["    return 0;", "}", ""])


def run(cmd: list[str], cwd: Path) -> str:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(cmd)}:\n{proc.stderr}{proc.stdout}"
    return proc.stdout


def build_and_read(files: dict[str, str], name: str, macros: list[str], folder: Path,
                   cxx: bool, strict: bool = True) -> dict[str, list[bytes]]:
    """Write the files, compile every .c with -Werror (C99, or C++11 when ``cxx``; comparison
    backends' code without ``strict``), link the probe, run it and return each macro's strings
    as bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    for fname, text in files.items():
        (folder / fname).write_text(text)
    (folder / "probe.c").write_text(probe_c(name, macros))
    sources = sorted(f for f in files if f.endswith(".c"))
    cc, flags = ("g++", CXX_STRICT) if cxx else ("gcc", STRICT)
    for src in (*sources, "probe.c"):
        use = flags if strict or src == "probe.c" else ["-std=c99", "-w"]
        run([cc, *use, "-c", src, "-o", src[:-2] + ".o"], folder)
    run([cc, *(f[:-2] + ".o" for f in sources), "probe.o", "-o", "probe", "-lm"], folder)
    out: dict[str, list[bytes]] = {m: [] for m in macros}
    for line in run(["./probe"], folder).splitlines():
        tag, _, hexed = line.partition(" ")
        out[tag].append(bytes.fromhex(hexed))
    return out


def exported_symbols(folder: Path, objects: list[str]) -> set[str]:
    """Global symbols the objects define (nm: upper-case type letters except U)."""
    out = set()
    for obj in objects:
        for line in run(["nm", "-P", "--defined-only", obj], folder).splitlines():
            sym, kind = line.split()[:2]
            if kind.isupper():
                out.add(sym)
    return out


def header_functions(files: dict[str, str]) -> set[str]:
    """Function names declared in the generated headers (the documented contract)."""
    names = set()
    for fname, text in files.items():
        if fname.endswith(".h") and not fname.startswith(("tcg_", "eml_")):
            code = "".join(t for k, t in lex(text) if k == "code")
            names |= set(re.findall(r"^[a-z][\w ]*?\b(\w+)\(", code, flags=re.M))
    return names


def has_constructor_section(folder: Path, objects: list[str]) -> bool:
    for obj in objects:
        text = run(["objdump", "-h", obj], folder)
        if ".init_array" in text or ".ctors" in text:
            return True
    return False


def rows(n: int = 60, seed: int = 0) -> tuple[np.random.Generator, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng, rng.normal(size=(n, 2))


def lr_pipeline(labels: list[str], cols: list[str], cats: list[str],
                steps: list[str]) -> Pipeline:
    """LR behind a ColumnTransformer (MinMaxScaler, OneHotEncoder, OrdinalEncoder) with the
    given class labels, column names, category values and (set after fit) step names."""
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
