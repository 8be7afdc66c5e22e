"""C writer for IsolationForest (``ir/iforest.py``): node tables, a double sum, a cut."""

from __future__ import annotations

import math

import numpy as np

from tinycodegen._version import __version__
from tinycodegen.emit.common import CSource, c_array, c_double, header, int_type, render
from tinycodegen.emit.registry import register_emitter
from tinycodegen.emit.runtime import runtime_files
from tinycodegen.ir.detect import EXTRA_FUNCTIONS, header_decls
from tinycodegen.ir.iforest import IsolationForestIR
from tinycodegen.ir.trees import float_keys

STEP = """    const int32_t a = kv[{name}_feat[i]];
{u}    i = a <= {name}_thr[i]{nan} ? {name}_left[i] : {name}_right[i];
"""
NAN = " || (a == TCG_NAN_RIGHT && (({name}_nanl[u >> 3] >> (u & 7u)) & 1u) != 0u)"


def _tables(ir: IsolationForestIR, name: str) -> tuple[str, str]:
    children = np.concatenate([ir.left, ir.right, ir.roots]).astype(np.int64)
    child_t = int_type(int(children.min(initial=0)), int(children.max(initial=0)), False)
    feat_t = int_type(0, max(ir.meta.n_features - 1, 0))
    keys = float_keys(ir.threshold + np.float32(0.0))  # -0.0 taken as +0.0: same decisions
    t = c_array(feat_t, f"{name}_feat", ir.feature.tolist() or [0], per_line=24)
    t += c_array("int32_t", f"{name}_thr", [str(int(k)) for k in keys] or ["0"], 8)
    t += c_array(child_t, f"{name}_left", ir.left.tolist() or [0], per_line=16)
    t += c_array(child_t, f"{name}_right", ir.right.tolist() or [0], per_line=16)
    t += c_array(child_t, f"{name}_roots", ir.roots.tolist(), per_line=16)
    step = STEP.format(name=name, nan="", u="")
    if ir.nan_left.any():
        bits = np.packbits(ir.nan_left.astype(np.uint8), bitorder="little")
        t += "/* bit i: NaN at node i goes left (sklearn's missing_go_to_left) */\n"
        t += c_array("uint8_t", f"{name}_nanl", [f"0x{b:02x}u" for b in bits], per_line=12)
        step = STEP.format(name=name, nan=NAN.format(name=name),
                           u="    const uint32_t u = (uint32_t)i;\n")
    return t, "".join("        " + line + "\n" for line in step.splitlines())


@register_emitter("isolation_forest", "table")
def emit_iforest(ir: IsolationForestIR, name: str) -> CSource:
    tables, step = _tables(ir, name)
    leaf = c_array("double", f"{name}_leaf_d", [c_double(v) for v in ir.leaf_value], 4)
    if ir.denominator == 0.0:  # one training sample: sklearn sets the ratio to 1
        expo = "    (void)depths;\n    return -1.0;\n"
    else:
        expo = f"    return -(depths / {c_double(ir.denominator)});\n"
    if math.isinf(ir.e_min):
        outlier = "1" if ir.e_min < 0 else "0"
        outlier = f"((void)e, {outlier})"
    else:
        outlier = f"e >= {c_double(ir.e_min)}"
    c_text = render("iforest.c.tmpl", NAME=name, UNAME=name.upper(), VERSION=__version__,
                    N_TREES=ir.n_trees, N_NODES=ir.n_nodes, NODE_TABLES=tables,
                    LEAF_TABLE=leaf, STEP=step, EXPONENT=expo, OUTLIER=outlier,
                    OFFSET=c_double(ir.offset))
    doc = (
        f" * IsolationForest: {ir.n_trees} tree(s), {ir.n_nodes} split nodes. predict equals\n"
        " * sklearn's for every float input (the leaf path lengths summed in double in tree\n"
        " * order, as sklearn, then one double compare: no power needed). decision_function\n"
        " * and score_samples use pow() from <math.h> (link with -lm): sklearn's float32\n"
        " * values unless numpy's power and the C library's differ in the double's last bit\n"
        " * where it matters for the float rounding (rare; `check` counts such rows).\n"
        f" * RAM: {4 * ir.meta.n_features} bytes of stack (ordered integer keys of x).\n"
    )
    files = {
        f"{name}.h": header(ir.meta, name, "table", decls=header_decls(name), doc=doc,
                            proba=False),
        f"{name}.c": c_text,
    }
    files.update(runtime_files(("tcg_input.h", "tcg_detect.h")))
    return CSource(name=name, files=files, n_features=ir.meta.n_features, n_classes=2,
                   backend="table", extra_functions=EXTRA_FUNCTIONS, proba=False,
                   guarantee="exact")
