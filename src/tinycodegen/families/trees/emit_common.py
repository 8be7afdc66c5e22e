"""What every walk strategy shares: how the walks read the input, and the frame a walk and an
aggregation (``aggregate.py``, ``vote.py``) are put together in (``tree_source``).

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

from tinycodegen._version import __version__
from tinycodegen.core.csource import (
    CSource,
    header,
    render,
)
from tinycodegen.core.runtime import runtime_files
from tinycodegen.families.trees.aggregate import Aggregation
from tinycodegen.families.trees.ir import TreeEnsembleIR

WALK_RUNTIME = ("tcg_input.h",)  # the walks' input checks and keys
PROBA64_DECL = """
/* sklearn's predict_proba in double, unrounded (no input check): for composite models. Not
 * defined where double is narrower than IEEE binary64 (avr-gcc): there predict and
 * predict_proba replay binary64 in integer arithmetic (tcg_f64.h) instead. */
void {name}_proba64(const float *x, double *out);
"""



def aggregation_of(ir: TreeEnsembleIR) -> Aggregation:
    """How the ensemble's leaves become predict / predict_proba (the IR says)."""
    return ir.aggregation  # type: ignore[no-any-return]


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
def fast_sum_loop(ir: TreeEnsembleIR, name: str, leaf_args: str = "v") -> str:
    """Fixed-point sums over trees through the ``NAME_leaf(t, ...)`` dispatcher (statements
    with declarations: put them in a block)."""
    sm = aggregation_of(ir).sums(ir, name)
    return render("tree_fast_loop.c.tmpl", N_TREES=ir.n_trees, DECL=indent(sm.decl, 4),
                  ADD=indent(sm.add(f"{name}_leaf(t, {leaf_args})"), 8),
                  STORE=indent(sm.store, 4)).rstrip("\n")


def tree_source(ir: TreeEnsembleIR, name: str, backend: str, template: str, *,
                fast_sum: str | None = None, walk: WalkInput | None = None,
                leaf_args: str = "v", walk_code: str = "", leaf_expr: str | None = None,
                proba_pre: str = "", **subs: str) -> CSource:
    walk = walk or walk_input(ir, name, backend)
    ram = textwrap.wrap(f"RAM: {walk.ram_doc()}.", 94)
    agg = aggregation_of(ir)
    doc = (
        f" * {ir.n_trees} tree(s), {ir.n_nodes} split nodes, {ir.n_leaves} distinct leaf vectors.\n"
        + agg.doc(ir) + "\n".join(f" * {line}" for line in ram)
    )
    if fast_sum is None:
        fast_sum = "    {\n" + indent(fast_sum_loop(ir, name, leaf_args), 4) + "\n    }"
    vote = agg.code(ir, name, fast_sum, walk=walk, leaf_args=leaf_args, walk_code=walk_code,
                    leaf_expr=leaf_expr, proba_pre=proba_pre, fast=backend != "size")
    c_text = render(template, NAME=name, VERSION=__version__, N_TREES=ir.n_trees,
                    N_NODES=ir.n_nodes, IN_T=walk.in_t, VOTE=vote, **subs)
    decls = PROBA64_DECL.format(name=name)
    files = {f"{name}.h": header(ir.meta, name, backend, decls=decls, doc=doc), f"{name}.c": c_text}
    files.update(runtime_files(WALK_RUNTIME + agg.runtime))
    return CSource(
        name=name,
        files=files,
        n_features=ir.meta.n_features,
        n_classes=ir.meta.n_classes,
        backend=backend,
    )
