"""C of lane-summed float scores (``lane_scores.c.tmpl``), plain or folded: the folded form
(:mod:`tinycodegen.families.linear.fold`) reads the raw input, with the folded weights and the
per-categorical-input score tables. Linear models decide from it; MLPs run their first layer
with it."""

from __future__ import annotations

import numpy as np

from tinycodegen.core.csource import c_array, c_float, int_type, render
from tinycodegen.families.linear.fold import XG, FoldedFast


def _floats(name: str, a: np.ndarray) -> str:
    return c_array("float", name, [c_float(v) for v in np.ravel(a)], 6)


def folded_tables(ff: FoldedFast, name: str, exact_w: str | None = None) -> str:
    """Weights per raw column (0 where no numeric output reads it), the folded intercepts and,
    per score, the categorical inputs' tables back to back (code -1 first). ``exact_w``: the
    exact path's double weight of score ``c`` and output column ``j`` as a C expression; given
    and the tables one-hot (``ff.cols``), the tables are read from it (column per code slot
    ``NAME_cc``, tcg_f32_flush) instead of stored."""
    up = name.upper()
    out = ("/* Folded fast path: weight of each raw column (transform folded in), intercepts\n"
           " * with the transform's shifts folded in, code tables of the categorical inputs. */\n")
    out += _floats(f"{name}_wr", ff.wr) + _floats(f"{name}_br", ff.br)
    if not ff.cat_src:
        return out
    sizes = [t.shape[1] for t in ff.tables]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int)
    out += f"#define {up}_NCAT {len(sizes)}\n#define {up}_NCT {sum(sizes)}\n"
    if derived(ff, exact_w):
        assert ff.cols is not None and exact_w is not None
        cols = np.concatenate(ff.cols)
        out += c_array(int_type(-1, int(max(cols.max(), 0))), f"{name}_cc",
                       [int(v) for v in cols], 16)
    else:
        out += _floats(f"{name}_ct", np.concatenate(ff.tables, axis=1))
    src_t = int_type(0, max(ff.cat_src))
    off_t = int_type(0, int(max(offsets)))
    out += c_array(src_t, f"{name}_cat_src", list(ff.cat_src))
    out += c_array("int32_t", f"{name}_cat_n", [s - 1 for s in sizes])
    out += c_array(off_t, f"{name}_cat_off", [int(o) for o in offsets])
    if any(r.any() for r in ff.reject):
        rej = np.concatenate(ff.reject).astype(int)
        out += c_array("uint8_t", f"{name}_cat_rej", [int(v) for v in rej], 24)
    return out


def derived(ff: FoldedFast, exact_w: str | None) -> bool:
    """The categorical tables are read from the exact weights (see folded_tables)."""
    return exact_w is not None and ff.cols is not None and bool(ff.cat_src)


def lanes_code(name: str, fn: str, count: str, width: int, weights: str, bias: str,
               folded: FoldedFast | None = None, exact_w: str | None = None) -> str:
    """``static int NAME_FN(const float *xf, float *s, float *a)``: ``count`` scores over
    ``width`` inputs, row-major ``weights``, lane 0 starting at ``bias[c]``; folded: xf is the
    raw input, lane 0 starts at the folded intercept plus the categorical inputs' table values,
    and the function returns 0 for an invalid or rejected code."""
    up = name.upper()
    params = {"DOC": "", "PRELUDE": "", "START": f"{bias}[c]", "START_ABS": f"tcg_absf({bias}[c])"}
    if folded is not None:
        params["DOC"] = ("\n * Folded: xf is the raw input, the transform folded into the weights "
                         "and tables, so\n * no double arithmetic runs here (see "
                         "tinycodegen/ir/linear_fold.py).")
    if folded is not None and folded.guarded:  # flushed weights: their |x| must stay small
        tests = " || ".join(f"!(tcg_absf(xf[{c}]) <= {c_float(np.float32(XG))})"
                            for c in folded.guarded)
        params["PRELUDE"] = (f"    if ({tests}) {{\n        return 0; /* (and NaN) */\n    }}\n")
    if folded is not None and folded.cat_src:
        test = (f" || {name}_cat_rej[{name}_cat_off[k] + code[k] + 1]"
                if any(r.any() for r in folded.reject) else "")
        params |= {"PRELUDE": params["PRELUDE"] + render(
                       "linear_fold_prelude.c.tmpl", NAME=name, UNAME=up, COUNT=count,
                       REJECT_TEST=test, TABLE_LOOP=render(
                           "linear_fold_derived.c.tmpl" if derived(folded, exact_w) else
                           "linear_fold_stored.c.tmpl", NAME=name, UNAME=up, COUNT=count,
                           EXACT_W=exact_w or "")),
                   "START": "st[c]", "START_ABS": "at[c]"}
    tail = "".join(
        f"        {{\n            const float p = w[i + {j}] * xf[i + {j}];\n"
        f"            s{j} = s{j} + p;\n            a{j} = a{j} + tcg_absf(p);\n        }}\n"
        for j in range(width % 4))
    tail_array = "".join(
        f"        {{\n            const float p = w[i + {j}] * xf[i + {j}];\n"
        f"            sl[{j}] = sl[{j}] + p;\n            al[{j}] = al[{j}] + tcg_absf(p);\n"
        "        }\n" for j in range(width % 4))
    return render("lane_scores.c.tmpl", NAME=name, FN=fn, COUNT=count, WIDTH=width,
                  WEIGHTS=weights, TAIL=tail, TAIL_ARRAY=tail_array, **params)
