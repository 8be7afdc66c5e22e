"""C writers for IsolationForest (``ir/iforest.py``) and its quantized form (``ir/qiforest.py``):
node tables walked on integer keys, a sum over trees, one cut."""

from __future__ import annotations

import math

import numpy as np

from tinycodegen._version import __version__
from tinycodegen.core.bits import float_keys
from tinycodegen.core.csource import CSource, c_array, c_double, int_type, render
from tinycodegen.core.detect_source import detector_source
from tinycodegen.families.iforest.ir import IsolationForestIR
from tinycodegen.families.iforest.qir import QuantizedIsolationForestIR

STEP = """    const int32_t a = kv[{name}_feat[i]];
{u}    i = a <= {name}_thr[i]{nan} ? {name}_left[i] : {name}_right[i];
"""
NAN = " || (a == TCG_NAN_RIGHT && (({name}_nanl[u >> 3] >> (u & 7u)) & 1u) != 0u)"
DOUBLE_GUARD = """#if defined(__SIZEOF_DOUBLE__) && __SIZEOF_DOUBLE__ != 8
#error "needs a 64-bit double (sklearn's double arithmetic is replayed; avr-gcc: -mdouble=64)"
#endif
"""
SCORE_DOC = (
    " * decision_function and score_samples use pow() from <math.h> (link with -lm):\n"
    " * {what} unless numpy's power and the C library's differ in\n"
    " * the double's last bit where it matters for the float rounding (`check` counts rows).\n"
)


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


def _exponent(ir: IsolationForestIR, depths: str) -> str:
    if ir.denominator == 0.0:  # one training sample: sklearn sets the ratio to 1
        return f"    (void)({depths});\n    return -1.0;\n"
    return f"    return -(({depths}) / {c_double(ir.denominator)});\n"


def _source(base: IsolationForestIR, name: str, doc: str, guarantee: str, **subs: object
            ) -> CSource:
    tables, step = _tables(base, name)
    c_text = render("iforest.c.tmpl", NAME=name, UNAME=name.upper(), VERSION=__version__,
                    N_TREES=base.n_trees, N_NODES=base.n_nodes, NODE_TABLES=tables, STEP=step,
                    OFFSET=c_double(base.offset), **subs)
    doc += f" * RAM: {4 * base.meta.n_features} bytes of stack (ordered integer keys of x).\n"
    return detector_source(base.meta, name, c_text, doc=doc, guarantee=guarantee,
                           runtime=("tcg_input.h", "tcg_detect.h"))


def emit_iforest(ir: IsolationForestIR, name: str) -> CSource:
    if math.isinf(ir.e_min):
        outlier = f"(void)e;\n    return {0 if ir.e_min < 0 else 1};\n"
    else:
        outlier = f"return e >= {c_double(ir.e_min)} ? 0 : 1;\n"
    predict = ("    /* outlier (0) exactly where sklearn's 2 ** e (numpy's power) exceeds "
               f"-offset_ */\n    const double e = {name}_exponent(x);\n    {outlier}")
    doc = (
        f" * IsolationForest: {ir.n_trees} tree(s), {ir.n_nodes} split nodes. predict equals\n"
        " * sklearn's for every float input (the leaf path lengths summed in double in tree\n"
        " * order, as sklearn, then one double compare: no power needed).\n"
        + SCORE_DOC.format(what="sklearn's float32 values")
    )
    leaf = c_array("double", f"{name}_leaf", [c_double(v) for v in ir.leaf_value], 4)
    return _source(ir, name, doc, "exact", DOUBLE_GUARD=DOUBLE_GUARD,
                   LEAF_DOC="sklearn's (node depth + average path length(n_node_samples)) "
                   "- 1.0, in double.", LEAF_TABLE=leaf, ACC_T="double",
                   SUM_DOC="sklearn's depths: the leaf values summed in double in tree order.",
                   EXPONENT=_exponent(ir, f"{name}_depths(x)"), PREDICT=predict)


def emit_qiforest(ir: QuantizedIsolationForestIR, name: str) -> CSource:
    base = ir.base
    leaf_t = "uint8_t" if ir.bits == 8 else "uint16_t"
    leaf = c_array(leaf_t, f"{name}_leaf", [f"{int(v)}u" for v in ir.leaf_q], 16)
    depths = f"(double){name}_depths(x) / {ir.scale}.0 - {base.n_trees}.0"
    doc = (
        f" * IsolationForest quantized to int{ir.bits}: {base.n_trees} tree(s), {base.n_nodes}"
        " split nodes, the\n * float model's exact routing; each leaf's path length + 1 in "
        f"fixed point (x {ir.scale}),\n * summed as integers: predict is sum < {ir.cut}, "
        "bit-exact to the quantized reference\n * (ir/qiforest.py); `check` reports the "
        "difference from sklearn.\n"
        + SCORE_DOC.format(what="the quantized reference's values")
    )
    return _source(base, name, doc, "reference", DOUBLE_GUARD="",
                   LEAF_DOC=f"round((path length term + 1) * {ir.scale}).",
                   LEAF_TABLE=leaf, ACC_T="uint32_t",
                   SUM_DOC="integer sum of the fixed-point leaf terms over the trees.",
                   EXPONENT=_exponent(base, depths),
                   PREDICT=f"    return {name}_depths(x) < {ir.cut}u ? 0 : 1;\n" if ir.cut > 0
                   else f"    (void){name}_depths(x);\n    return 1;\n")
