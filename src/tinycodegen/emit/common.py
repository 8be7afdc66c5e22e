"""Pieces every C writer uses: names, literals, arrays, templates, the header."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from string import Template

import numpy as np

from tinycodegen._version import __version__
from tinycodegen.errors import InvalidNameError
from tinycodegen.ir.base import ModelMeta

C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern float for goto if "
    "inline int long register restrict return short signed sizeof static struct switch typedef "
    "union unsigned void volatile while _Bool _Complex _Imaginary _Alignas _Alignof _Atomic "
    "_Generic _Noreturn _Static_assert _Thread_local bool true false asm".split()
)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
MAX_NAME = 48


def validate_c_name(name: str) -> str:
    """Return ``name`` if it can prefix every C symbol of a model, else raise one clear error."""
    if not isinstance(name, str) or not _IDENT.match(name):
        raise InvalidNameError(
            f"invalid model name {name!r}: use letters, digits and _, not starting with a digit"
        )
    if name in C_KEYWORDS:
        raise InvalidNameError(f"invalid model name {name!r}: it is a C keyword")
    if name.startswith("tcg_") or name.startswith("__") or re.match(r"_[A-Z]", name):
        raise InvalidNameError(
            f"invalid model name {name!r}: 'tcg_', '__' and '_X' prefixes are reserved"
        )
    if len(name) > MAX_NAME:
        raise InvalidNameError(f"invalid model name {name!r}: longer than {MAX_NAME} characters")
    return name


@dataclass(frozen=True)
class CSource:
    """A generated model: file name -> text, plus what the build and checker need to know."""

    name: str
    files: dict[str, str]
    n_features: int
    n_classes: int
    backend: str
    strict: bool = True  # compiles under the project's -Werror flag set
    double_input: bool = False  # comparison backends that take double* (wrapped to float*)
    extra_functions: tuple[str, ...] = field(default=())  # e.g. "decision_function"
    notes: tuple[str, ...] = field(default=())
    # What the C promises against the library (GUARANTEES): the header's wording comes from it.
    guarantee: str = "exact"
    proba: bool = True  # exports NAME_predict_proba (outlier detectors do not)

    @property
    def c_file(self) -> str:
        return f"{self.name}.c"

    @property
    def h_file(self) -> str:
        return f"{self.name}.h"


# The promise a generated model makes, one word each: "exact" (equal to the library on every
# float32 input), "band" (equal except inside the library's own BLAS rounding band, e.g. an
# unknown BLAS summation order), "reference" (bit-exact to its quantized NumPy reference; the
# difference from the float model is measured by `check`), "none" (comparison backends).
GUARANTEES = ("exact", "band", "reference", "none")


def c_float(v: float) -> str:
    """Exact C literal of a float32 value (9 significant digits round-trip every float32)."""
    f = np.float32(v)
    if not np.isfinite(f):
        raise ValueError(f"non-finite float constant {v!r}")
    s = f"{float(f):.9g}"
    if np.float32(s) != f:  # pragma: no cover - guard
        raise AssertionError(f"float literal {s} does not round-trip")
    if "." not in s and "e" not in s:
        s += ".0"
    return s + "f"


def c_double(v: float) -> str:
    d = float(v)
    if not np.isfinite(d):
        raise ValueError(f"non-finite double constant {v!r}")
    s = repr(d)
    if "." not in s and "e" not in s:
        s += ".0"
    return s


def c_string(s: str) -> str:
    out = []
    for ch in str(s):
        if ch in '"\\':
            out.append("\\" + ch)
        elif 32 <= ord(ch) < 127:
            out.append(ch)
        else:
            out.extend(f"\\{b:03o}" for b in ch.encode("utf-8"))
    return '"' + "".join(out) + '"'


def int_type(lo: int, hi: int, unsigned_ok: bool = True) -> str:
    """Smallest <stdint.h> type holding [lo, hi]."""
    for bits in (8, 16, 32):
        if unsigned_ok and lo >= 0 and hi < (1 << bits):
            return f"uint{bits}_t"
        if -(1 << (bits - 1)) <= lo and hi < (1 << (bits - 1)):
            return f"int{bits}_t"
    raise ValueError(f"range [{lo}, {hi}] does not fit 32 bits")


def c_array(ctype: str, name: str, values: list[str] | np.ndarray, per_line: int = 12) -> str:
    """``static const`` array definition, wrapped for reading."""
    items = [str(v) for v in values] if len(values) else ["0"]
    lines = []
    for i in range(0, len(items), per_line):
        lines.append("    " + ", ".join(items[i : i + per_line]) + ",")
    return f"static const {ctype} {name}[{len(items)}] = {{\n" + "\n".join(lines) + "\n};\n"


def render(template: str, **subs: object) -> str:
    text = resources.files("tinycodegen.emit").joinpath("templates", template).read_text()
    return Template(text).substitute({k: str(v) for k, v in subs.items()})


PROBA_DECL = """
/* {up}_N_CLASSES probabilities, sklearn's predict_proba rounded to float; all 0 for
 * rejected input. */
void {name}_predict_proba(const float *x, float *out);
"""


def header(meta: ModelMeta, name: str, backend: str, *, decls: str = "", doc: str = "",
           proba: bool = True) -> str:
    """The model's public header: the C contract, class labels and feature names."""
    up = name.upper()
    labels = meta.class_labels
    class_macros = "\n".join(f"#define {up}_CLASS_{i} {c_string(c)}" for i, c in enumerate(labels))
    class_list = ", ".join(f"{up}_CLASS_{i}" for i in range(len(labels)))
    if meta.feature_names:
        feats = ", ".join(c_string(f) for f in meta.feature_names)
        feature_macro = f"#define {up}_FEATURE_NAMES {{ {feats} }}"
    else:
        feature_macro = f"/* fitted without feature names: {meta.n_features} inputs */"
    nan_doc = {
        "route": "NaN is a valid input (routed as sklearn routes it); +-inf returns -1.",
        "accept": "NaN and +-inf are valid inputs (sklearn accepts and routes them).",
    }.get(meta.nan_policy, "NaN or +-inf anywhere in x returns -1 (sklearn rejects such input).")
    return render(
        "header.h.tmpl",
        NAME=name,
        UNAME=up,
        VERSION=__version__,
        ESTIMATOR=meta.estimator,
        BACKEND=backend,
        N_FEATURES=meta.n_features,
        N_CLASSES=meta.n_classes,
        CLASS_MACROS=class_macros,
        CLASS_LIST=class_list,
        FEATURE_MACRO=feature_macro,
        NAN_DOC=nan_doc,
        DOC=doc,
        DECLS=(PROBA_DECL.format(name=name, up=up) if proba else "") + decls,
    )
