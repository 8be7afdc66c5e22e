"""What both tree writers share: leaf tables, the vote, the runtime headers to ship."""

from __future__ import annotations

from tinycodegen._version import __version__
from tinycodegen.emit.common import CSource, c_array, c_double, header, int_type, render
from tinycodegen.emit.runtime import runtime_files
from tinycodegen.ir.trees import TreeEnsembleIR

RUNTIME = ("tcg_input.h", "tcg_vote.h")
PROBA64_DECL = """
/* sklearn's predict_proba in double, unrounded (no input check): for composite models. */
void {name}_proba64(const float *x, double *out);
"""


def fast_sum_loop(ir: TreeEnsembleIR, name: str) -> str:
    """Fixed-point sums over trees through the ``NAME_leaf(t, x)`` dispatcher."""
    return render("tree_fast_loop.c.tmpl", NAME=name, UNAME=name.upper(),
                  N_TREES=ir.n_trees).rstrip("\n")


def vote_code(ir: TreeEnsembleIR, name: str, fast_sum: str) -> str:
    k = ir.meta.n_classes
    q = ir.leaf_fixed.ravel()
    d = ir.leaf_values.ravel()
    tables = c_array("uint16_t", f"{name}_leaf_q", [f"{int(v)}u" for v in q], per_line=12)
    counts = ir.leaf_counts
    if counts is None:
        tables += c_array("double", f"{name}_leaf_d", [c_double(v) for v in d], max(k, 4))
        acc_template, leaf_doc, count_t = "tree_acc_double.c.tmpl", (
            f"{name}_leaf_d: sklearn's float64 values."), "uint32_t"
    else:
        count_t = int_type(0, int(counts.max(initial=0)))
        tables += c_array(count_t, f"{name}_leaf_c", [f"{int(v)}u" for v in counts.ravel()], 12)
        acc_template, leaf_doc = "tree_acc_counts.c.tmpl", (
            f"{name}_leaf_c: class counts c; sklearn's value is c[k] / sum(c) in double.")
    slack = ir.fixed_slack
    subs = dict(NAME=name, UNAME=name.upper(), SLACK=slack, COUNT_T=count_t)
    decide = render(
        "tree_decide_exact.c.tmpl" if slack == 0 else "tree_decide_fallback.c.tmpl", **subs
    ).rstrip("\n")
    return render(
        "tree_vote.c.tmpl",
        NAME=name,
        UNAME=name.upper(),
        N_LEAVES=ir.n_leaves,
        LEAF_TABLES=tables,
        DIVISOR=ir.divisor,
        N_TREES=ir.n_trees,
        NAN_OK=1 if ir.meta.nan_policy == "route" else 0,
        DECIDE=decide,
        FAST_SUM=fast_sum,
        LEAF_DOC=leaf_doc,
        ACCUMULATE=render(acc_template, **subs).rstrip("\n"),
    )


def tree_source(ir: TreeEnsembleIR, name: str, backend: str, template: str, *,
                fast_sum: str | None = None, **subs: str) -> CSource:
    doc = (
        f" * {ir.n_trees} tree(s), {ir.n_nodes} split nodes, {ir.n_leaves} distinct leaf vectors.\n"
        " * predict decides on integer sums where they are conclusive and replays sklearn's\n"
        " * double arithmetic otherwise, so it equals sklearn's predict for every float input."
    )
    c_text = render(
        template,
        NAME=name,
        VERSION=__version__,
        N_TREES=ir.n_trees,
        N_NODES=ir.n_nodes,
        VOTE=vote_code(ir, name, fast_sum or fast_sum_loop(ir, name)),
        **subs,
    )
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
