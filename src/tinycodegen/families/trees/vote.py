"""The forest's aggregation: sklearn's vote (the mean of the trees' class probabilities).

A fast path sums 15-bit fixed-point leaf fractions (or class counts) in integers and decides
where the sum is conclusive (``fixed_slack``); elsewhere the sums are replayed in sklearn's float64
order (``tree_acc_double`` / ``tree_acc_counts``), so predict equals sklearn's for every input.
The :class:`~tinycodegen.families.trees.aggregate.Aggregation` this module implements is
:data:`VOTE`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinycodegen.core.csource import ROM_READERS, c_array, c_double, int_type, render, rom_read
from tinycodegen.families.trees.emit_common import (
    WalkInput,
    inputs_code,
    predict_code,
    proba_inputs,
    walk_input,
)
from tinycodegen.families.trees.ir import FIXED_ONE, TreeEnsembleIR


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
    fix: dict[int, int] | None = None
    if counts is None:  # binary64 constants: double, or their bits (see tcg_f64.h)
        bits = np.ascontiguousarray(d, dtype=np.float64).view(np.uint64).tolist()
        lits = [f"TCG_F64_C(0x{b:016x}, {c_double(v)})" for b, v in zip(bits, d, strict=True)]
        tables += c_array("tcg_f64", f"{name}_leaf_d", lits, max(k, 2), rom=True)
        acc_template, leaf_doc, count_t = "tree_acc_double.c.tmpl", (
            f"{name}_leaf_d: sklearn's float64 values."), "uint32_t"
    elif not fast and (fix := _qtot_fixes(ir, counts)) is not None:  # size: totals only
        count_t = int_type(0, int(counts.sum(axis=1).max(initial=0)))
        tables += c_array(count_t, f"{name}_leaf_n", [f"{int(v)}u" for v in counts.sum(axis=1)],
                          12, rom=True)
        acc_template, leaf_doc = "tree_acc_qtot.c.tmpl", (
            f"{name}_leaf_n: class counts' total n; class 0's count is round(q * n / {FIXED_ONE})"
            f"\n * (q = {name}_leaf_q{_fix_doc(fix)}), class 1's n - c0; sklearn's value is "
            "c[k] / n in double.")
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
                COUNT_READ=ROM_READERS[count_t], FIXES="".join(
                    f"        if (j == {j}u) {{\n            c0 = {c}u;\n        }}\n"
                    for j, c in (fix or {}).items()))
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


MAX_FIXES = 8  # leaves whose class-0 count the size layout spells out (n >= 2**15)


def _recover_c0(q: np.ndarray, n: np.ndarray) -> np.ndarray:
    """C's ``(q * n + 16384) >> 15`` (uint32: q <= 2**15, n < 2**16)."""
    return (q.astype(np.uint64) * n.astype(np.uint64) + (FIXED_ONE >> 1)) >> 15


def _qtot_fixes(ir: TreeEnsembleIR, counts: np.ndarray | None) -> dict[int, int] | None:
    """The size layout's count table for a binary forest: only each leaf's total n, class 0's
    count recovered from the fast path's fixed-point fraction q (exact while n < 2**15: q is
    within 1/2 unit of c0 * 2**15 / n). Returns the leaves where the recovery misses, with
    their counts (at most MAX_FIXES), or None where the plain counts table must stay."""
    q, dropped = columns(ir)
    if counts is None or ir.count_mode or not dropped or q.shape[1] != 1:
        return None
    n = counts.astype(np.int64).sum(axis=1)
    if int(n.max(initial=0)) >= 1 << 16:
        return None
    c0 = counts[:, 0].astype(np.uint64)
    bad = np.flatnonzero(_recover_c0(q[:, 0], n) != c0)
    return None if len(bad) > MAX_FIXES else {int(j): int(c0[j]) for j in bad}


def _fix_doc(fix: dict[int, int]) -> str:
    return f"; but for leaves {sorted(fix)}, listed in the code" if fix else ""


@dataclass(frozen=True)
class Vote:
    """sklearn's forest vote as an :class:`Aggregation` (see ``README.md`` beside this file)."""

    runtime: tuple[str, ...] = ("tcg_vote.h", "tcg_f64.h")

    def sums(self, ir: TreeEnsembleIR, name: str) -> Sums:
        return sums(ir, name)

    def doc(self, ir: TreeEnsembleIR) -> str:
        return (" * predict decides on integer sums where they are conclusive and replays "
                "sklearn's\n * double arithmetic otherwise, so it equals sklearn's predict for "
                "every float input.\n")

    def code(self, ir: TreeEnsembleIR, name: str, fast_sum: str, **parts: object) -> str:
        return vote_code(ir, name, fast_sum, **parts)  # type: ignore[arg-type]


VOTE = Vote()
