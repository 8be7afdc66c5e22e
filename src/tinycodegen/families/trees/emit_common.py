"""What both tree writers share: how the walks read the input, leaf tables, the vote.

The walks compare int32 values, never floats (no soft-float calls on cores without an FPU):

- *raw* mode (every threshold key >= 0, ``TreeEnsembleIR.raw_bits_ok``): the walks read the bits
  of ``x`` itself as int32. predict's fast path is the input check, then the walks: no copy,
  no keys, no arrays on the stack;
- *key* mode: ``tcg_keys`` fuses the check with the key conversion into ``int32_t kv[n]``.

NaN (only routed when the model routes it) is replaced by a stand-in: ``TCG_NAN_RIGHT`` (above
every threshold key) in ``kv``; nodes that send NaN left either test a bit in a table (table
backend, ``WalkInput.need_st``) or read a second array ``kw`` holding ``TCG_NAN_LEFT`` (inline
backend, ``WalkInput.need_w``). Rows without NaN never pay for either.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import numpy as np

from tinycodegen._version import __version__
from tinycodegen.core.csource import (
    ROM_READERS,
    CSource,
    c_array,
    c_double,
    header,
    int_type,
    render,
    rom_read,
)
from tinycodegen.core.runtime import runtime_files
from tinycodegen.families.trees.ir import FIXED_ONE, TreeEnsembleIR

RUNTIME = ("tcg_input.h", "tcg_vote.h", "tcg_f64.h")
PROBA64_DECL = """
/* sklearn's predict_proba in double, unrounded (no input check): for composite models. Not
 * defined where double is narrower than IEEE binary64 (avr-gcc): there predict and
 * predict_proba replay binary64 in integer arithmetic (tcg_f64.h) instead. */
void {name}_proba64(const float *x, double *out);
"""


@dataclass(frozen=True)
class WalkInput:
    """How the walks of one model read their input, and what ``NAME_decide`` takes."""

    name: str
    raw: bool  # compare the raw bits of x (no key array)
    route: bool  # predict accepts NaN (sklearn routes it)
    need_w: bool  # a second array with NaN -> TCG_NAN_LEFT (inline backend, NaN-left nodes)
    need_st: bool  # the walks need to know that v holds NaN stand-ins (table backend)
    n_features: int
    scan: str = "tcg_scan"  # the input check: tcg_scan or a model's own unrolled NAME_scan

    @property
    def in_t(self) -> str:
        return "float" if self.raw else "int32_t"

    @property
    def n(self) -> str:
        return f"{self.name.upper()}_N_FEATURES"

    def get(self, array: str, index: str) -> str:
        """C expression: the int32 the walk compares for ``array[index]``."""
        return f"tcg_i32({array}[{index}])" if self.raw else f"{array}[{index}]"

    def params(self) -> str:
        t = self.in_t
        return (f", const {t} *v" + (f", const {t} *w" if self.need_w else "")
                + (", int st" if self.need_st else ""))

    def args(self, v: str, w: str, st: str) -> str:
        return f", {v}" + (f", {w}" if self.need_w else "") + (f", {st}" if self.need_st else "")

    def arrays(self) -> str:
        kw = f"    {self.in_t} kw[{self.n}];\n" if self.need_w else ""
        return f"    {self.in_t} kv[{self.n}];\n{kw}"

    def ram_doc(self) -> str:
        n4, arrays = 4 * self.n_features, 1 + self.need_w
        if self.raw:
            return ("the walks read the float bits of x directly (every threshold >= 0); predict "
                    f"and proba64 may reserve {arrays * n4} bytes of stack for copies of x with "
                    "NaN stand-ins, filled only for input holding NaN")
        return (f"the walks compare ordered integer keys of x (4 x {self.n_features} features = "
                f"{n4} bytes on the stack of predict and proba64"
                + (f", {n4} more for NaN stand-ins)" if self.need_w else ")"))


def nan_left_used(ir: TreeEnsembleIR) -> bool:
    return ir.meta.nan_policy == "route" and bool(ir.nan_left.any())


def walk_input(ir: TreeEnsembleIR, name: str, backend: str) -> WalkInput:
    nan_left = nan_left_used(ir)
    return WalkInput(name=name, raw=ir.raw_bits_ok, route=ir.meta.nan_policy == "route",
                     need_w=backend == "inline" and nan_left,
                     need_st=backend == "table" and nan_left, n_features=ir.meta.n_features)


def key_literal(k: int) -> str:
    return str(int(k))


def indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "".join(pad + line if line.strip() else line for line in text.splitlines(True))


# ---- input preparation and predict's entry -------------------------------------------------
def inputs_code(w: WalkInput) -> str:
    """``NAME_inputs``: check x and prepare what the walks read (see the module doc)."""
    kw_param = f", {w.in_t} *kw" if w.need_w else ""
    nan_doc = "kv (NaN -> TCG_NAN_RIGHT)" + (", kw (NaN -> TCG_NAN_LEFT)" if w.need_w else "")
    if w.raw:
        fill = f"        tcg_nan_fill(x, kw, {w.n}, TCG_NAN_LEFT);\n" if w.need_w else ""
        return render("tree_inputs_raw.c.tmpl", NAME=w.name, UNAME=w.name.upper(), SCAN=w.scan,
                      KW_PARAM=kw_param, NAN_DOC=nan_doc, KW_FILL=fill).rstrip("\n")
    swap = (f"    if ((st & 2) != 0) {{\n        tcg_key_swap(kv, kw, {w.n}, TCG_NAN_RIGHT, "
            "TCG_NAN_LEFT);\n    }\n") if w.need_w else ""
    return render("tree_inputs_keys.c.tmpl", NAME=w.name, UNAME=w.name.upper(),
                  KW_PARAM=kw_param, NAN_DOC=nan_doc, KW_SWAP=swap).rstrip("\n")


def proba_inputs(w: WalkInput) -> str:
    """Top of proba64: v (and w) for any input, inf and NaN included."""
    v = "(st & 2) != 0 ? kv : x" if w.raw else "kv"
    lines = w.arrays() + f"    const int st = {w.name}_inputs(x, kv{', kw' if w.need_w else ''});\n"
    lines += f"    const {w.in_t} *v = {v};\n"
    if w.need_w:
        lines += f"    const {w.in_t} *w = (st & 2) != 0 ? kw : v;\n"
    return lines + "    (void)st;"


NOINLINE = ("#if defined(__GNUC__)\n__attribute__((noinline)) /* keeps its copies off predict's "
            "fast path */\n#endif\n")


def predict_code(w: WalkInput, noinline: bool = True) -> tuple[str, str]:
    """(body of NAME_predict, NAME_predict_special or "", out of line if ``noinline``)."""
    kw_fill = f"    tcg_nan_fill(x, kw, {w.n}, TCG_NAN_LEFT);\n" if w.need_w else ""
    subs = dict(NAME=w.name, UNAME=w.name.upper(), REJECT_MASK=1 if w.route else 3, SCAN=w.scan,
                ARRAYS=w.arrays(), KW_ARG=", kw" if w.need_w else "", KW_FILL=kw_fill,
                FAST_ARGS=w.args("x", "x", "0"), NAN_ARGS=w.args("kv", "kw", "st"),
                KEY_ARGS=w.args("kv", "(st & 2) != 0 ? kw : kv", "st"),
                NOINLINE=NOINLINE if noinline else "")
    if not w.raw:
        return render("tree_predict_keys.c.tmpl", **subs).rstrip("\n"), ""
    if not w.route:
        return render("tree_predict_check.c.tmpl", **subs).rstrip("\n"), ""
    return (render("tree_predict_raw.c.tmpl", **subs).rstrip("\n"),
            render("tree_predict_special.c.tmpl", **subs))


# ---- fixed-point sums ------------------------------------------------------------------------
def columns(ir: TreeEnsembleIR) -> tuple[np.ndarray, bool]:
    """Fixed-point leaf table to store and whether its last class column was dropped (every
    leaf row sums to exactly 1.0 in fixed point: the last class sum is the rest of the total)."""
    q = ir.leaf_fixed
    drop = q.shape[1] >= 2 and bool((q.astype(np.int64).sum(axis=1) == FIXED_ONE).all())
    return (q[:, :-1] if drop else q), drop


@dataclass(frozen=True)
class Sums:
    """C pieces that add fixed-point leaf vectors to ``acc``: ``decl`` and ``store`` surround
    the ``add`` statements (one stored column: a register ``a``, else ``acc`` itself, which
    NAME_decide then zero-initialises). Each piece ends with a newline, or is empty."""

    decl: str
    store: str
    name: str
    single: bool

    def add(self, leaf: str) -> str:
        if self.single:
            return f"a += {rom_read('uint16_t', f'{self.name}_leaf_q', leaf)};\n"
        return (f"tcg_add_u16(acc, &{self.name}_leaf_q[({leaf}) * (uint32_t){self.name}_COLS], "
                f"{self.name}_COLS);\n")


def sums(ir: TreeEnsembleIR, name: str) -> Sums:
    if columns(ir)[0].shape[1] == 1:
        return Sums("uint32_t a = 0u;\n", "acc[0] = a;\n", name, True)
    return Sums("", "", name, False)


def fast_sum_loop(ir: TreeEnsembleIR, name: str, leaf_args: str = "v") -> str:
    """Fixed-point sums over trees through the ``NAME_leaf(t, ...)`` dispatcher (statements
    with declarations: put them in a block)."""
    sm = sums(ir, name)
    return render("tree_fast_loop.c.tmpl", N_TREES=ir.n_trees, DECL=indent(sm.decl, 4),
                  ADD=indent(sm.add(f"{name}_leaf(t, {leaf_args})"), 8),
                  STORE=indent(sm.store, 4)).rstrip("\n")


# ---- the vote: tables, proba64, predict, predict_proba -----------------------------------
def vote_code(ir: TreeEnsembleIR, name: str, fast_sum: str, *, walk: WalkInput | None = None,
              leaf_args: str = "v", walk_code: str = "", leaf_expr: str | None = None,
              proba_pre: str = "", fast: bool = True) -> str:
    """Leaf tables, ``walk_code`` (the backend's walks, which may read them), the input
    preparation, proba64, NAME_decide (``fast_sum`` + the decision), predict, predict_proba.
    ``fast`` (all layouts but size): a binary model's margin test as one unsigned compare and
    NAME_predict_special out of line (fewer cycles and less stack; a few bytes more flash)."""
    walk = walk or walk_input(ir, name, "table")
    k = ir.meta.n_classes
    q, dropped = columns(ir)
    d = ir.leaf_values.ravel()
    tables = c_array("uint16_t", f"{name}_leaf_q", [f"{int(v)}u" for v in q.ravel()], 12,
                     rom=True)
    counts = ir.leaf_counts
    if counts is None:  # binary64 constants: double, or their bits (see tcg_f64.h)
        bits = np.ascontiguousarray(d, dtype=np.float64).view(np.uint64).tolist()
        lits = [f"TCG_F64_C(0x{b:016x}, {c_double(v)})" for b, v in zip(bits, d, strict=True)]
        tables += c_array("tcg_f64", f"{name}_leaf_d", lits, max(k, 2), rom=True)
        acc_template, leaf_doc, count_t = "tree_acc_double.c.tmpl", (
            f"{name}_leaf_d: sklearn's float64 values."), "uint32_t"
    elif ir.count_mode:  # the fast path's table already holds the counts
        count_t = "uint16_t"
        tables += f"#define {name}_leaf_c {name}_leaf_q\n"
        acc_template, leaf_doc = "tree_acc_counts.c.tmpl", (
            f"{name}_leaf_c (= {name}_leaf_q): class counts c; sklearn's value is c[k] / sum(c) "
            "in double.")
    else:
        count_t = int_type(0, int(counts.max(initial=0)))
        tables += c_array(count_t, f"{name}_leaf_c", [f"{int(v)}u" for v in counts.ravel()], 12,
                          rom=True)
        acc_template, leaf_doc = "tree_acc_counts.c.tmpl", (
            f"{name}_leaf_c: class counts c; sklearn's value is c[k] / sum(c) in double.")
    slack = ir.fixed_slack
    leaf_expr = leaf_expr or f"{name}_leaf(t, {leaf_args})"
    subs = dict(NAME=name, UNAME=name.upper(), SLACK=slack, COUNT_T=count_t, LEAF=leaf_expr,
                COUNT_READ=ROM_READERS[count_t])
    n_cols = q.shape[1]
    decide = render(
        "tree_decide_exact.c.tmpl" if slack == 0 else
        "tree_decide_binary.c.tmpl" if k == 2 and dropped and fast else
        "tree_decide_fallback.c.tmpl",
        SLACK2=2 * slack, **subs
    ).rstrip("\n")
    if dropped:
        last = f"    acc[{k - 1}] = {ir.n_trees * FIXED_ONE}u"
        last += "".join(f" - acc[{j}]" for j in range(k - 1)) + ";\n"
        q_doc = (f"15-bit fixed point of the first {n_cols} class(es), the fast path;\n"
                 f" * every leaf sums to {FIXED_ONE}, so the last class's sum is the rest.")
    elif ir.count_mode:
        last, q_doc = "", ("class counts (one tree: their first arg-max is sklearn's, exactly),\n"
                           " * the fast path.")
    else:
        last, q_doc = "", "15-bit fixed point, the fast path."
    body, special = predict_code(walk, fast)
    decide_doc = (" (and w at nodes that send NaN left)" if walk.need_w else
                  " (st & 2: v holds NaN stand-ins)" if walk.need_st else "")
    return render(
        "tree_vote.c.tmpl",
        NAME=name,
        UNAME=name.upper(),
        N_LEAVES=ir.n_leaves,
        LEAF_TABLES=tables,
        DIVISOR=ir.divisor,
        N_TREES=ir.n_trees,
        N_COLS=n_cols,
        Q_DOC=q_doc,
        DECIDE=decide,
        FAST_SUM=fast_sum,
        FILL_LAST=last,
        LEAF_DOC=leaf_doc,
        ACCUMULATE=render(acc_template, **subs).rstrip("\n"),
        PROBA_PRE=proba_pre,
        ACC_INIT="" if sums(ir, name).single else " = {0u}",
        INPUTS=inputs_code(walk),
        WALK_CODE=walk_code,
        PROBA_INPUTS=proba_inputs(walk),
        DECIDE_PARAMS=walk.params(),
        DECIDE_DOC=decide_doc,
        PREDICT_BODY=body,
        PREDICT_SPECIAL=special,
        REJECT_MASK=1 if walk.route else 3,
        SCAN=walk.scan,
    )


def tree_source(ir: TreeEnsembleIR, name: str, backend: str, template: str, *,
                fast_sum: str | None = None, walk: WalkInput | None = None,
                leaf_args: str = "v", walk_code: str = "", leaf_expr: str | None = None,
                proba_pre: str = "", **subs: str) -> CSource:
    walk = walk or walk_input(ir, name, backend)
    ram = textwrap.wrap(f"RAM: {walk.ram_doc()}.", 94)
    doc = (
        f" * {ir.n_trees} tree(s), {ir.n_nodes} split nodes, {ir.n_leaves} distinct leaf vectors.\n"
        " * predict decides on integer sums where they are conclusive and replays sklearn's\n"
        " * double arithmetic otherwise, so it equals sklearn's predict for every float input.\n"
        + "\n".join(f" * {line}" for line in ram)
    )
    if fast_sum is None:
        fast_sum = "    {\n" + indent(fast_sum_loop(ir, name, leaf_args), 4) + "\n    }"
    vote = vote_code(ir, name, fast_sum, walk=walk, leaf_args=leaf_args, walk_code=walk_code,
                     leaf_expr=leaf_expr, proba_pre=proba_pre,
                     fast=backend != "size")
    c_text = render(template, NAME=name, VERSION=__version__, N_TREES=ir.n_trees,
                    N_NODES=ir.n_nodes, IN_T=walk.in_t, VOTE=vote, **subs)
    decls = PROBA64_DECL.format(name=name)
    files = {f"{name}.h": header(ir.meta, name, backend, decls=decls, doc=doc), f"{name}.c": c_text}
    files.update(runtime_files(RUNTIME))
    return CSource(
        name=name,
        files=files,
        n_features=ir.meta.n_features,
        n_classes=ir.meta.n_classes,
        backend=backend,
    )
