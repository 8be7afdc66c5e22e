"""The boosted aggregation: the trees' leaves summed into ``raw[tree_output[t]]`` in the IR's
``accumulate`` type, in tree order from ``base``; then the library's link (predict_proba,
proba64) and its predict rule on the raw sums (no exp; see README.md here).

Every boosted layout (``emit.py``: table; ``walks.py``: size, speed) is a walk put together
with this aggregation by :func:`boosted_source`: the walk supplies the C before the link
(``walk``: node tables and functions) and the statements adding the leaves (``sum``); this
module writes the leaf tables the walks index (:meth:`BoostedSum.leaf_tables`), the link,
NAME_raw, NAME_proba64, NAME_predict and NAME_predict_proba. :class:`BoostedSum` answers the
trees' :class:`~tinycodegen.families.trees.aggregate.Aggregation` questions (``runtime``,
``sums``, ``doc``, ``code``) for a boosted IR.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinycodegen._version import __version__
from tinycodegen.core.csource import (
    CSource,
    c_array,
    c_double,
    c_float,
    header,
    int_type,
    render,
    rom_read,
)
from tinycodegen.core.runtime import runtime_files
from tinycodegen.errors import UnsupportedModelError
from tinycodegen.families.boosted.emit_lgbm import lgbm_decide
from tinycodegen.families.boosted.ir import BoostedTreesIR
from tinycodegen.families.boosted.links import FLOAT_LINKS
from tinycodegen.families.trees.emit_common import indent

PROBA64_DECL = """
/* The library's predict_proba in double, unrounded (no input check): for composite models.
 * The C computes in IEEE binary64: on avr-gcc (32-bit double) the build stops with #error. */
void {name}_proba64(const float *x, double *out);
"""


def acc_type(ir: BoostedTreesIR) -> str:
    acc_t = "float" if ir.accumulate == "float32" else "double"
    if (acc_t == "float") != (ir.link in FLOAT_LINKS):
        raise UnsupportedModelError(f"boosted trees: link {ir.link} with a {acc_t} sum")
    return acc_t


def leaf_literal(ir: BoostedTreesIR, leaf: int) -> str:
    """C constant of leaf ``leaf``'s value in the accumulate type (exactly what is added)."""
    v = ir.leaf_value[leaf]
    return c_float(v) if ir.accumulate == "float32" else c_double(v)


@dataclass(frozen=True)
class LeafAdds:
    """The trees' ``LeafSums`` for a boosted IR: ``add(leaf)`` adds leaf ``leaf`` of tree ``t``
    (``t`` in scope, an int32_t) to ``raw``, rounded to the accumulate type."""

    name: str
    acc_t: str
    n_outputs: int
    decl: str = ""
    store: str = ""
    single: bool = True

    def add(self, leaf: str) -> str:
        out = "0" if self.n_outputs == 1 else rom_read(
            int_type(0, self.n_outputs - 1), f"{self.name}_out", "t")
        read = (rom_read("float", f"{self.name}_leaf", leaf) if self.acc_t == "float"
                else f"{self.name}_leaf[{leaf}]")
        return f"const int32_t o = {out};\nraw[o] = raw[o] + {read};\n"


def _link(ir: BoostedTreesIR) -> str:
    k = ir.n_outputs
    if ir.link == "sk_binary":
        m = "raw[0]" if ir.link_param == 1.0 else f"{c_double(ir.link_param)} * raw[0]"
        return f"tcg_proba_sigmoid({m}, out);"
    calls = {"sk_softmax": f"tcg_proba_softmax(raw, {k}, out);",
             "sk_softmax_seq": f"tcg_softmax_seq(raw, {k}, out);",
             "lgbm_softmax": f"tcg_softmax_seq(raw, {k}, out);",
             "lgbm_sigmoid": f"tcg_lgbm_sigmoid(raw[0], {c_double(ir.link_param)}, out);",
             "xgb_sigmoid": "tcg_xgb_sigmoid(raw[0], out);",
             "xgb_softmax": f"tcg_xgb_softmax(raw, {k}, out);"}
    return calls[ir.link]


def _decide(ir: BoostedTreesIR, name: str, acc_t: str) -> str:
    zero = "0.0f" if acc_t == "float" else "0.0"
    rule = ir.predict_rule
    lgbm = lgbm_decide(ir, name)
    if lgbm is not None:
        return lgbm
    if rule in ("raw_ge_zero", "raw_gt_zero"):
        return f"return raw[0] {'>=' if rule == 'raw_ge_zero' else '>'} {zero} ? 1 : 0;"
    pre, v = "", "raw"
    if rule == "proba_gt_half" and ir.link == "xgb_sigmoid":  # p > 0.5 iff raw >= cut
        from tinycodegen.families.boosted.link_xgboost import sigmoid_cut

        return f"return raw[0] >= {c_float(sigmoid_cut())} ? 1 : 0;"
    if rule == "proba_gt_half":
        return (f"double p[{ir.meta.n_classes}];\n{name}_link(raw, p);\n"
                "return p[1] > 0.5 ? 1 : 0;")
    if rule == "proba_argmax":
        pre, v = f"double p[{ir.meta.n_classes}];\n{name}_link(raw, p);\n", "p"
    if rule == "proba_argmax" and ir.link == "xgb_softmax":  # expf only near a tie
        pre = ("{\n    const int32_t clear = tcg_xgb_clear_argmax(raw, "
               f"{ir.n_outputs});\n    if (clear >= 0) {{\n        return clear;\n    }}\n}}\n"
               + pre)
    n = ir.meta.n_classes if rule == "proba_argmax" else ir.n_outputs
    return (pre + f"int32_t k, best = 0;\nfor (k = 1; k < {n}; ++k) {{\n"
            f"    if ({v}[k] > {v}[best]) {{\n        best = k;\n    }}\n}}\nreturn best;")


def _checks(ir: BoostedTreesIR, name: str) -> tuple[str, str, str]:
    """(refusal function, predict's check, predict_proba's check)."""
    up, policy = name.upper(), ir.meta.nan_policy
    fn = ""
    if policy == "accept":
        feats = np.flatnonzero(ir.inf_reject)
        if not len(feats):
            return "", "", ""
        tests = "\n".join(f"    r |= (tcg_bits(x[{f}]) & 0x7fffffffu) == 0x7f800000u;"
                          for f in feats)
        fn = ("\n/* The library refuses +-inf in these features. */\n"
              f"static int {name}_refused(const float *x)\n{{\n    int r = 0;\n{tests}\n"
              "    return r;\n}\n")
        cond = f"{name}_refused(x)"
    else:
        cond = f"!tcg_input_ok(x, {up}_N_FEATURES, {1 if policy == 'route' else 0})"
        fmax = np.finfo(np.float32).max
        limits = [(f, lo, hi) for f, (lo, hi) in enumerate(ir.x_range)
                  if lo > -fmax or hi < fmax]
        if limits:
            tests = " ||\n           ".join(f"x[{f}] < {c_float(lo)} || x[{f}] > {c_float(hi)}"
                                              for f, lo, hi in limits)
            fn = ("\n/* Finite values the library refuses (a scaler's float32 result would "
                  f"overflow). */\nstatic int {name}_out_of_range(const float *x)\n{{\n"
                  f"    return {tests};\n}}\n")
            cond += f" || {name}_out_of_range(x)"
    check = f"    if ({cond}) {{\n        return -1;\n    }}"
    check_p = f"    if ({cond}) {{\n        tcg_zero(out, {up}_N_CLASSES);\n        return;\n    }}"
    return fn, check, check_p


@dataclass(frozen=True)
class BoostedSum:
    """Sum plus link: the boosted :class:`~tinycodegen.families.trees.aggregate.Aggregation`."""

    runtime: tuple[str, ...] = ("tcg_input.h", "tcg_rom.h", "tcg_boost.h")

    def sums(self, ir: BoostedTreesIR, name: str) -> LeafAdds:
        return LeafAdds(name, acc_type(ir), ir.n_outputs)

    def doc(self, ir: BoostedTreesIR) -> str:
        return (f" * raw sums in {acc_type(ir)}, tree order.\n * predict decides on the raw "
                "sums as the library does (no exp); predict_proba uses libm's exp.\n")

    def leaf_tables(self, ir: BoostedTreesIR, name: str) -> str:
        """``NAME_out`` (multi-output models) and ``NAME_leaf``, read by :meth:`sums`."""
        t = ""
        if ir.n_outputs > 1:
            t += c_array(int_type(0, ir.n_outputs - 1), f"{name}_out", ir.tree_output.tolist(),
                         per_line=24, rom=True)
        if acc_type(ir) == "float":
            t += c_array("float", f"{name}_leaf", [c_float(v) for v in ir.leaf_value], 6,
                         rom=True)
        else:  # double tables are not TCG_ROM: AVR (32-bit double) stops at the #error guard
            t += "/* leaf values: exactly what the library adds */\n"
            t += c_array("double", f"{name}_leaf", [c_double(v) for v in ir.leaf_value], 4)
        return t

    def code(self, ir: BoostedTreesIR, name: str, fast_sum: str, *, walk_code: str = "",
             layout: str = "table", layout_doc: str = "") -> str:
        """The model's C file: ``walk_code`` (tables and walks), the link, NAME_raw (base,
        then ``fast_sum``: statements adding every tree's leaf in tree order), proba64,
        predict and predict_proba."""
        acc_t = acc_type(ir)
        refused, check, check_p = _checks(ir, name)
        base = "\n".join(f"    raw[{k}] = {c_float(b) if acc_t == 'float' else c_double(b)};"
                         for k, b in enumerate(ir.base))
        link = (f"\n/* The library's probabilities from the raw outputs ({ir.link}). */\n"
                f"static void {name}_link(const {acc_t} *raw, double *out)\n{{\n"
                f"    {_link(ir)}\n}}\n")
        return render("boosted_walk.c.tmpl", NAME=name, UNAME=name.upper(), VERSION=__version__,
                      N_TREES=ir.n_trees, N_NODES=ir.n_nodes, LAYOUT=layout,
                      LAYOUT_DOC=layout_doc, WALK=walk_code, LINK_FN=link, ACC_T=acc_t,
                      BASE=base, SUM=fast_sum.rstrip("\n"), N_OUT=ir.n_outputs,
                      N_PROBA=ir.meta.n_classes, LINK=f"    {name}_link(raw, out);",
                      REFUSED_FN=refused, CHECK=check, CHECK_PROBA=check_p,
                      DECIDE=indent(_decide(ir, name, acc_t), 4))


BOOSTED_SUM = BoostedSum()


def boosted_source(ir: BoostedTreesIR, name: str, layout: str, walk_code: str, fast_sum: str,
                   layout_doc: str) -> CSource:
    """The CSource of a walk (``walk_code``, ``fast_sum``) with the boosted aggregation."""
    agg = BOOSTED_SUM
    doc = (f" * {ir.n_trees} tree(s), {ir.n_nodes} split nodes, {ir.n_leaves} leaves; "
           f"{layout} layout: {layout_doc}.\n" + agg.doc(ir).rstrip("\n"))
    files = {f"{name}.h": header(ir.meta, name, layout, decls=PROBA64_DECL.format(name=name),
                                 doc=doc),
             f"{name}.c": agg.code(ir, name, fast_sum, walk_code=walk_code, layout=layout,
                                   layout_doc=layout_doc)}
    files.update(runtime_files(agg.runtime))
    return CSource(name=name, files=files, n_features=ir.meta.n_features,
                   n_classes=ir.meta.n_classes, backend=layout, guarantee="exact")
