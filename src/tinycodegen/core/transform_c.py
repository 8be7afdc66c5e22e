"""C for an InputTransform: ``static int NAME_input(const float *x, double *z)``.

Returns 0 when the input is rejected, else writes the estimator's float64 input vector to ``z``
and returns 1. Families call this before their own arithmetic, ship :data:`RUNTIME`, and put
:func:`transform_decls` into their header (category names and ``NAME_<column>_code``).

Numeric outputs are grouped by their op sequence: one loop per group over tables of source
column, output column and operands (a literal when all equal). Categorical outputs are written
per input column: one-hot style blocks as "all low, then the code's column high", anything else
as a table indexed by the code.
"""

from __future__ import annotations

import textwrap

import numpy as np

from tinycodegen.core.bits import f64_bits
from tinycodegen.core.csource import c_array, c_double, c_float, c_string, int_type, render
from tinycodegen.core.preprocess import CodeOutput, InputTransform, NumericOutput, Opcode

RUNTIME = ("tcg_input.h", "tcg_preprocess.h")
_BINARY = {Opcode.MUL: "*", Opcode.ADD: "+", Opcode.SUB: "-", Opcode.DIV: "/"}


def transform_code(transform: InputTransform | None, name: str, n_features: int, *,
                   final_check: bool = True, out: str = "double", with_lookups: bool = True
                   ) -> str:
    """``NAME_input``; ``final_check``: also reject a NaN or infinite z (every estimator but
    trees, which check float32(z) themselves). ``out="float"``: z is ``float *`` and receives
    float(z), rounded once from the double result (what sklearn hands a tree).
    ``with_lookups=False``: without the public ``NAME_<column>_code`` functions (a private copy
    of a transform whose model already exports them)."""
    if transform is None:
        return (
            f"static int {name}_input(const float *x, double *z)\n{{\n"
            f"    int32_t i;\n"
            f"    if (!tcg_input_ok(x, {n_features}, 0)) {{\n        return 0;\n    }}\n"
            f"    for (i = 0; i < {n_features}; ++i) {{\n        z[i] = (double)x[i];\n    }}\n"
            f"    return 1;\n}}\n"
        )
    w = _Writer(transform, name, final_check and out == "double", out == "float")
    return render(
        "transform.c.tmpl", NAME=name, STEPS="; ".join(transform.steps) or "identity", ZTYPE=out,
        N_INPUTS=transform.n_inputs, N_OUTPUTS=transform.n_outputs,
        FINAL_DOC=", or a NaN or infinite result" if final_check else "",
        TABLES="".join(w.tables), LOOKUPS=lookups(transform, name) if with_lookups else "",
        BODY="".join(w.body),
    )


def double_lit(v: float) -> str:
    if np.isnan(v):
        return "TCG_PP_NAN"
    if np.isinf(v):
        return "TCG_PP_INF" if v > 0 else "(-TCG_PP_INF)"
    return c_double(v)


def float_lit(v: float) -> str:
    """float(v) as C does it (round to nearest; overflow to +-inf)."""
    with np.errstate(over="ignore"):
        f = np.float32(v)
    return c_float(f) if np.isfinite(f) else f"(float){double_lit(float(f))}"


class _Writer:
    def __init__(self, t: InputTransform, name: str, final_check: bool, to_float: bool) -> None:
        self.name = name
        self.lit = float_lit if to_float else double_lit
        self.ctype = "float" if to_float else "double"
        self.store = "(float)v" if to_float else "v"
        self.tables: list[str] = []
        self.body: list[str] = []
        for k, cat in enumerate(t.categorical):
            self._code(k, cat.index, cat.n_categories, cat.reject)
        groups: dict[tuple[int, ...], list[int]] = {}
        for j, out in enumerate(t.outputs):
            if isinstance(out, NumericOutput):
                groups.setdefault(out.signature, []).append(j)
        for g, (sig, cols) in enumerate(groups.items()):
            self._numeric(t, g, sig, cols, final_check)
        for k, cat in enumerate(t.categorical):
            cols = [j for j, o in enumerate(t.outputs)
                    if isinstance(o, CodeOutput) and o.src == cat.index]
            if cols:
                self._block(t, k, cols, final_check)

    def index(self, values: list[int] | np.ndarray, label: str) -> str:
        """C expression of values[i]: ``base + i`` when consecutive, else a table."""
        arr = np.asarray(values, dtype=np.int64)
        if len(arr) and np.array_equal(arr, arr[0] + np.arange(len(arr))):
            return "i" if arr[0] == 0 else f"{int(arr[0])} + i"
        ctype = int_type(0, int(arr.max()))
        self.tables.append(c_array(ctype, f"{self.name}_{label}", arr.tolist(), per_line=16))
        return f"{self.name}_{label}[i]"

    def operand(self, values: list[float], label: str, result: bool = False) -> str:
        """C expression of values[i]: a literal when all equal; ``result``: an output value
        (float when z is float), else an operand of the double arithmetic."""
        lit, ctype = (self.lit, self.ctype) if result else (double_lit, "double")
        if all(np.float64(v).tobytes() == np.float64(values[0]).tobytes() for v in values):
            return lit(values[0])
        self.tables.append(c_array(ctype, f"{self.name}_{label}", [lit(v) for v in values],
                                   per_line=4))
        return f"{self.name}_{label}[i]"

    def _code(self, k: int, index: int, n: int, reject: np.ndarray) -> None:
        b = [f"    int32_t c{k};\n",
             f"    if (!tcg_pp_code(x[{index}], {n}, &c{k})) {{\n        return 0;\n    }}\n"]
        rejected = np.flatnonzero(reject)
        if rejected.tolist() == [0]:
            b.append(f"    if (c{k} < 0) {{\n        return 0;\n    }}\n")
        elif len(rejected):
            self.tables.append(c_array("uint8_t", f"{self.name}_rej{k}",
                                       [f"{int(r)}u" for r in reject], per_line=24))
            b.append(f"    if ({self.name}_rej{k}[c{k} + 1]) {{\n        return 0;\n    }}\n")
        b.append(f"    (void)c{k};\n")
        self.body.extend(b)

    def _numeric(self, t: InputTransform, g: int, sig: tuple[int, ...], cols: list[int],
                 final_check: bool) -> None:
        outs = [t.outputs[j] for j in cols]
        src = self.index([o.src for o in outs], f"n{g}_src")  # type: ignore[union-attr]
        dst = self.index(cols, f"n{g}_out")
        ops = []
        for p, op in enumerate(sig):
            a = self.operand([o.ops[p][1] for o in outs], f"n{g}_a{p}")  # type: ignore
            if op == Opcode.CHECK:
                ops.append("        if (tcg_pp_is_inf(v)) {\n            return 0;\n        }\n")
            elif op == Opcode.CLIP:
                b = self.operand([o.ops[p][2] for o in outs], f"n{g}_b{p}")  # type: ignore
                ops.append(f"        v = tcg_pp_clip(v, {a}, {b});\n")
            else:
                ops.append(f"        v = v {_BINARY[op]} {a};\n")
        if final_check:
            ops.append("        if (!tcg_pp_finite(v)) {\n            return 0;\n        }\n")
        self.body.append(render("transform_loop.c.tmpl", N=len(cols), SRC=src, OUT=dst,
                                OPS="".join(ops), STORE=self.store))

    def _block(self, t: InputTransform, k: int, cols: list[int], final_check: bool) -> None:
        table = np.stack([t.outputs[j].table for j in cols], axis=1)  # type: ignore[union-attr]
        w = len(cols)
        dst = self.index(cols, f"c{k}_out")
        ind = indicator(table)
        if ind is None:
            self.tables.append(c_array(self.ctype, f"{self.name}_c{k}_tab",
                                       [self.lit(v) for v in table.ravel()], per_line=4))
            self.body.append(f"    for (int32_t i = 0; i < {w}; ++i) {{\n        z[{dst}] = "
                             f"{self.name}_c{k}_tab[(c{k} + 1) * {w} + i];\n    }}\n")
        else:
            pos, lo, hi = ind
            lo_e = self.operand(lo.tolist(), f"c{k}_lo", result=True)
            ptype = int_type(-1, w - 1, unsigned_ok=False)
            self.tables.append(c_array(ptype, f"{self.name}_c{k}_pos", pos.tolist(), 24))
            self.body.append(f"    for (int32_t i = 0; i < {w}; ++i) {{\n        z[{dst}] = "
                             f"{lo_e};\n    }}\n")
            hi_e = self.operand(hi.tolist(), f"c{k}_hi", result=True)
            self.body.append(
                f"    {{\n        const int32_t i = {self.name}_c{k}_pos[c{k} + 1];\n"
                f"        if (i >= 0) {{\n            z[{dst}] = {hi_e};\n        }}\n    }}\n")
        if final_check and not np.isfinite(table).all():
            self.body.append(f"    for (int32_t i = 0; i < {w}; ++i) {{\n        if (!tcg_pp_"
                             f"finite(z[{dst}])) {{\n            return 0;\n        }}\n    }}\n")




def indicator(table: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(pos per code, low, high per column) if each code's row is all ``low`` but at most one
    column ``pos`` holding ``high`` (one-hot, with drop / infrequent / later scaling)."""
    bits = f64_bits(table)
    n, w = bits.shape
    lo = np.empty(w, dtype=np.int64)
    hi = np.empty(w, dtype=np.int64)
    for j in range(w):
        vals, counts = np.unique(bits[:, j], return_counts=True)
        if len(vals) > 2:
            return None
        top = int(np.argmax(counts))
        lo[j] = vals[top]
        hi[j] = vals[1 - top] if len(vals) == 2 else vals[top]
    off = bits != lo[None, :]
    if (off.sum(axis=1) > 1).any():
        return None
    pos = np.where(off.any(axis=1), np.argmax(off, axis=1), -1)
    return pos, lo.view(np.float64), hi.view(np.float64)


def lookups(t: InputTransform, name: str) -> str:
    out = []
    for cat in t.categorical:
        names = ",\n".join(f"        {c_string(s)}" for s in cat.labels)
        out.append(render("transform_lookup.c.tmpl", NAME=name, COL=cat.name, K=cat.n_categories,
                          NAMES=names, COLUMN=cat.name))
    return "".join(out)


def transform_decls(t: InputTransform | None, name: str) -> str:
    """Header lines: per categorical input its column, categories and code lookup."""
    if t is None or not t.categorical:
        return ""
    up = name.upper()
    lines = ["", "/* Categorical inputs: x[..._INDEX] is the index of the value in ..._CATEGORIES,",
             " * -1 for a value not listed (..._UNSEEN_REJECTED 1: then predict returns -1).",
             f" * {name}_<column>_code(s) returns that index for a string; <column> is derived",
             " * from the column's name (..._COLUMN, where the model was fitted with names). */"]
    for cat in t.categorical:
        col = f"{up}_{cat.name.upper()}"
        names = ", ".join(c_string(s) for s in cat.labels)
        if cat.column is not None:
            lines.append(f"#define {col}_COLUMN {c_string(cat.column)}")
        lines += [f"#define {col}_INDEX {cat.index}",
                  f"#define {col}_N_CATEGORIES {cat.n_categories}",
                  f"#define {col}_CATEGORIES {{ {names} }}",
                  f"#define {col}_UNSEEN_REJECTED {int(bool(cat.reject[0]))}",
                  f"int32_t {name}_{cat.name}_code(const char *s);"]
    return "\n".join(lines) + "\n"


def transform_doc(t: InputTransform | None) -> str:
    """Header comment lines (each starting with " * ") describing the input of a transform."""
    if t is None:
        return ""
    text = [f"Preprocessing compiled in: {'; '.join(t.steps)}."]
    if t.categorical:
        cols = ", ".join(f"x[{c.index}] {c.name}" for c in t.categorical)
        text.append(
            f"Categorical inputs ({cols}): the index of the value in the encoder's categories_, "
            "-1 for an unseen value, handled as the encoder's handle_unknown says (rejected for "
            "'error', else encoded exactly as sklearn encodes it); any other value there (NaN, "
            "+-inf, a fraction, < -1, >= the number of categories) is rejected (returns -1)."
        )
    return "\n".join(" * " + line for para in text
                     for line in textwrap.wrap(para, 92, break_on_hyphens=False))
