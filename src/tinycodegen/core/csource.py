"""Pieces every C writer uses: names, literals, arrays, templates, the header."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from string import Template

import numpy as np

from tinycodegen._version import __version__
from tinycodegen.core.base import ModelMeta
from tinycodegen.errors import UnsupportedModelError
from tinycodegen.names import C_KEYWORDS, comment_text, validate_c_name

__all__ = ["C_KEYWORDS", "GUARANTEES", "CSource", "c_array", "c_double", "c_float", "c_string",
           "comment_text", "header", "int_type", "render", "validate_c_name", "weakest"]

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

    def __post_init__(self) -> None:
        if self.guarantee not in GUARANTEES:
            raise ValueError(f"CSource.guarantee {self.guarantee!r} is not one of {GUARANTEES}")
        head = self.files.get(self.h_file, "")
        macro = f"#define {self.name.upper()}_GUARANTEE "
        if macro in head and f'{macro}"{self.guarantee}"' not in head:
            raise ValueError(f"{self.h_file} states another guarantee than {self.guarantee!r}: "
                             "pass the same guarantee to header()")

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

# What the header says for each guarantee: (paragraph under the title, predict's comment,
# predict_proba's comment). The one place that words a model's promise.
WORDING = {
    "exact": (
        "Guarantee: exact. NAME_predict equals sklearn's predict, and NAME_predict_proba\n"
        " * sklearn's predict_proba rounded to float, for every float32 input.",
        "exactly as sklearn's predict",
        "sklearn's predict_proba rounded to float",
    ),
    "band": (
        "Guarantee: equal to sklearn except inside sklearn's own rounding band (its BLAS\n"
        " * summation order): where sklearn's double score is too close to a decision boundary\n"
        " * for its last bit to be known, the C decides on the correctly rounded score.\n"
        " * `python -m tinycodegen check` counts the rows that differ.",
        "as sklearn's predict except inside its rounding band",
        "from correctly rounded scores, rounded to float",
    ),
    "reference": (
        "Guarantee: bit-exact to the quantized model's own reference, not to sklearn: the\n"
        " * integer model may decide differently from the float one on some inputs; the\n"
        " * difference from sklearn is measured by `python -m tinycodegen check`.",
        "as the quantized model decides: bit-exact to its reference, not to sklearn",
        "the quantized model's probabilities",
    ),
    "none": (
        "Guarantee: none, not exact (comparison backend): another tool's arithmetic, wrapped\n"
        " * in this contract; `python -m tinycodegen check` counts the rows that differ.",
        "as the comparison backend computes it (not exact)",
        "the comparison backend's probabilities (not exact)",
    ),
}


def weakest(guarantees: list[str] | tuple[str, ...]) -> str:
    """The guarantee of a model made of parts: the weakest part's (order of GUARANTEES)."""
    return GUARANTEES[max((GUARANTEES.index(g) for g in guarantees), default=0)]


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


MAX_LITERAL = 4095  # bytes of one string literal every C99 compiler must accept


def c_string(s: object) -> str:
    """``s`` as a C string literal (UTF-8) that means the same in C99 and C++11: printable ASCII
    as is, except ``"`` ``\\`` and ``?`` (no trigraph can form) escaped; every other byte as a
    three-digit octal escape (so a following digit is never absorbed). A NUL, a lone surrogate or
    more than MAX_LITERAL bytes cannot be a C string: one clear error."""
    text = str(s)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        raise UnsupportedModelError(
            f"the string {text!r} is not valid Unicode (a lone surrogate): it cannot become a "
            "C string") from None
    if b"\0" in data:
        raise UnsupportedModelError(
            f"the string {text!r} holds a NUL character, which a C string cannot hold")
    if len(data) > MAX_LITERAL:
        raise UnsupportedModelError(
            f"the string {text[:40]!r}... is {len(data)} bytes long; a C string literal holds "
            f"at most {MAX_LITERAL}")
    out = []
    for b in data:
        ch = chr(b)
        if ch in '"\\?':
            out.append("\\" + ch)
        elif 32 <= b < 127:
            out.append(ch)
        else:
            out.append(f"\\{b:03o}")
    return '"' + "".join(out) + '"'


def int_type(lo: int, hi: int, unsigned_ok: bool = True) -> str:
    """Smallest <stdint.h> type holding [lo, hi]."""
    for bits in (8, 16, 32):
        if unsigned_ok and lo >= 0 and hi < (1 << bits):
            return f"uint{bits}_t"
        if -(1 << (bits - 1)) <= lo and hi < (1 << (bits - 1)):
            return f"int{bits}_t"
    raise ValueError(f"range [{lo}, {hi}] does not fit 32 bits")


def c_array(ctype: str, name: str, values: list[str] | np.ndarray, per_line: int = 12,
            rom: bool = False) -> str:
    """``static const`` array definition, wrapped for reading. ``rom``: in program memory on
    AVR (``TCG_ROM`` from tcg_rom.h; read it only through the ``TCG_ROM_*`` macros)."""
    items = [str(v) for v in values] if len(values) else ["0"]
    lines = []
    for i in range(0, len(items), per_line):
        lines.append("    " + ", ".join(items[i : i + per_line]) + ",")
    const = "static const TCG_ROM" if rom else "static const"
    return f"{const} {ctype} {name}[{len(items)}] = {{\n" + "\n".join(lines) + "\n};\n"


ROM_READERS = {"uint8_t": "TCG_ROM_U8", "int8_t": "TCG_ROM_I8", "uint16_t": "TCG_ROM_U16",
               "int16_t": "TCG_ROM_I16", "uint32_t": "TCG_ROM_U32", "int32_t": "TCG_ROM_I32",
               "float": "TCG_ROM_F32"}


def rom_read(ctype: str, array: str, index: str) -> str:
    """C expression reading ``array[index]`` of a ``c_array(..., rom=True)`` table."""
    return f"{ROM_READERS[ctype]}(&{array}[{index}])"


@cache
def _templates() -> dict[str, Traversable]:
    """Template file name -> file, over ``core/templates`` and each family's ``templates/``
    (the families of ``families.registry``; a name is never defined twice)."""
    from tinycodegen.families.registry import families

    out: dict[str, Traversable] = {}
    for package in ["tinycodegen.core", *(f.package for f in families())]:
        folder = resources.files(package).joinpath("templates")
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            if entry.name.endswith(".tmpl"):
                if entry.name in out:
                    raise RuntimeError(f"template {entry.name} is defined twice ({package})")
                out[entry.name] = entry
    return out


def render(template: str, **subs: object) -> str:
    text = _templates()[template].read_text()
    # Safety net: ${ESTIMATOR} (a description of the model) is comment text whatever its source.
    return Template(text).substitute({k: comment_text(v, 10_000) if k == "ESTIMATOR" else str(v)
                                      for k, v in subs.items()})


PROBA_DECL = """
/* {up}_N_CLASSES probabilities (all 0 for rejected input):
 * {doc}. */
void {name}_predict_proba(const float *x, float *out);"""


def header(meta: ModelMeta, name: str, backend: str, *, guarantee: str = "exact",
           decls: str = "", doc: str = "", proba: bool = True) -> str:
    """The model's public header: the C contract, class labels and feature names, and the
    wording of ``guarantee`` (the same word as the CSource's; ``doc`` is fixed text only).
    ``proba`` False: no NAME_predict_proba (outlier detectors: sklearn has none)."""
    up = name.upper()
    summary, predict_doc, proba_doc = WORDING[guarantee]
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
        GUARANTEE=guarantee,
        GUARANTEE_DOC=summary.replace("NAME_", f"{name}_"),
        PREDICT_DOC=predict_doc,
        PROBA_DOC=proba_doc,
        DOC=doc,
        PROBA_DECL=PROBA_DECL.format(name=name, up=up, doc=proba_doc) if proba else "",
        DECLS=decls,
    )
