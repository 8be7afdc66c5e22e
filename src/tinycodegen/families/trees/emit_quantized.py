"""Data-table backend for quantized tree ensembles: packed node words, integer-only walk.

The input is prepared one of two ways (``qtrees_parts.STRATEGIES``), both exact; the registered
``table`` writer picks one per model (:func:`choose_strategy`), tests force each.
"""

from __future__ import annotations

from string import Template

import numpy as np

from tinycodegen._version import __version__
from tinycodegen.core.csource import (
    ROM_READERS,
    CSource,
    c_array,
    c_float,
    header,
    int_type,
    render,
    rom_read,
)
from tinycodegen.core.runtime import runtime_files
from tinycodegen.families.trees.emit_qnodes import fits, nodes_parts
from tinycodegen.families.trees.emit_qparts import STRATEGIES, bins_parts, keys_parts
from tinycodegen.families.trees.qir import QuantizedTreeIR
from tinycodegen.families.trees.qpack import FIELDS, NodePacking, pack_nodes

RUNTIME = ("tcg_input.h", "tcg_qbin.h", "tcg_vote.h")
DECLS = """
/* Quantized model (${MODE}): integer class scores, which sum to ${UNAME}_SCORE_TOTAL; predict is
 * their first arg-max and predict_proba is (float)acc[k] / ${UNAME}_SCORE_TOTAL. Writes
 * ${UNAME}_N_CLASSES scores and returns 1, or writes zeros and returns 0 for rejected input. */
#define ${UNAME}_QUANTIZE "${MODE}"
#define ${UNAME}_SCORE_TOTAL ${DEN}u
int32_t ${NAME}_qscores(const float *x, uint32_t *acc);
/* The quantized members' common export: predict_proba as integer numerators num[k] and the
 * returned denominator (${UNAME}_SCORE_TOTAL; 0 and zeros for rejected input). */
uint32_t ${NAME}_qproba(const float *x, uint32_t *num);
"""


def _field_macros(name: str, p: NodePacking) -> str:
    lines = []
    for fld in FIELDS:
        word, shift, width = p.fields[fld]
        macro = f"#define {name.upper()}_{fld.upper()}(w)"
        if width == 0:
            lines.append(f"{macro} ((void)(w), 0u)")
        else:
            mask = "" if shift + width == 32 else f" & 0x{(1 << width) - 1:x}u"
            lines.append(f"{macro} ((TCG_ROM_U32(&(w)[{word}]) >> {shift}){mask})")
    return "\n".join(lines)


def _field_doc(p: NodePacking, strategy: str) -> str:
    label = {"bin": "bin (j)" if strategy == "bins" else "bin (threshold index off[f] + j)"}
    return ", ".join(f"{label.get(f, f)} {p.fields[f][2]} bits" for f in FIELDS
                     if p.fields[f][2])


def leaf_table(ir: QuantizedTreeIR, name: str) -> tuple[str, str]:
    """(element type, C of ``NAME_leafq``): each leaf's fractions of all classes but the last."""
    leaf_t = "uint8_t" if ir.mode == "int8" else "uint16_t"
    stored = max(ir.meta.n_classes - 1, 0)
    return leaf_t, c_array(leaf_t, f"{name}_leafq", [f"{int(v)}u" for v in
                                                     ir.leaf_q[:, :stored].ravel()],
                           per_line=16, rom=True)


def qtree_parts(ir: QuantizedTreeIR, name: str, strategy: str) -> dict[str, object]:
    """Every template substitution for ``qtree_table.c.tmpl``."""
    p = pack_nodes(ir, global_bin=strategy != "bins")
    k = ir.meta.n_classes
    root_t = int_type(0, int(p.root_codes.max(initial=0)))
    roots = c_array(root_t, f"{name}_root", [f"{int(v)}u" for v in p.root_codes], per_line=16,
                    rom=True)
    stored = max(k - 1, 0)  # the last class is scale minus the others
    leaf_t, leaves = leaf_table(ir, name)
    common = dict(
        NAME=name, UNAME=name.upper(), VERSION=__version__, MODE=ir.mode, N_TREES=ir.n_trees,
        N_NODES=ir.n_nodes, N_LEAVES=ir.n_leaves, LEAF_TABLES=leaves,
        LEAF_DOC=(f"{ir.n_leaves} distinct vectors of integer fractions of {ir.scale}; the "
                  f"first {stored} classes are stored, the last is {ir.scale} minus their sum."),
        DEN=ir.denominator, LEAF_T=leaf_t,
        LEAF_READ=ROM_READERS[leaf_t], K_STORED=stored, EXPORTS=exports(ir, name))
    if strategy == "nodes":
        parts = nodes_parts(ir, name, rom_read(root_t, f"{name}_root", "t"))
        parts["NODE_TABLES"] = f"{parts['NODE_TABLES']}{roots}"
        return {**common, **parts}
    nodes = c_array("uint32_t", f"{name}_node", [f"0x{int(v):08x}u" for v in p.node_words],
                    per_line=8, rom=True) + roots
    parts = (bins_parts if strategy == "bins" else keys_parts)(ir, name, p, root_t)
    walk_subs = dict(NAME=name, UNAME=name.upper(), WORDS=p.words, **walk_steps(ir, p))
    walks = []
    for spec in parts.pop("WALK_SPECS"):
        arg = spec["LEAF_PARAMS"].split("*")[-1].split(",")[0].strip()
        root_exit = Template(walk_subs["ROOT_EXIT"]).substitute(ARG=arg)
        level = render("qtree_level.c.tmpl", **walk_subs, **spec).rstrip("\n")
        unroll = spec.pop("UNROLL", True)  # the NaN walk is rarely taken: keep it short
        walks.append(render(
            "qtree_walk.c.tmpl", **{**walk_subs, "ROOT_EXIT": root_exit}, **spec,
            LEVELS=f"{level}\n{level}" if unroll else level,
            UNROLL_DOC=" /* two levels per iteration: one loop branch fewer per level */"
            if unroll else ""))
    return dict(
        **common, WORDS=p.words, FIELD_DOC=_field_doc(p, strategy),
        CHILD_DOC=walk_subs["CHILD_DOC"], NODE_TABLES=nodes,
        FIELD_MACROS=_field_macros(name, p), WALKS="\n".join(walks), **parts,
    )


def exports(ir: QuantizedTreeIR, name: str) -> str:
    """qproba, predict and predict_proba around ``NAME_qscores`` (every quantized layout)."""
    return render("qtree_exports.c.tmpl", NAME=name, UNAME=name.upper(),
                  DEN_F=c_float(np.float32(ir.denominator)))


def walk_steps(ir: QuantizedTreeIR, p: NodePacking) -> dict[str, str]:
    """The walk's exits and step for this packing (no always-true tests: -Wextra)."""
    r, n, off = p.node_range, ir.n_nodes, p.min_off
    step = f"(int32_t)v + {off}" if off >= 0 else f"(int32_t)v - {-off}"
    return dict(
        ROOT_EXIT=(f"    if (v >= {n}u) {{\n        return v - {n}u;\n    }}" if n
                   else "    (void)${ARG};\n    return v;"),
        CHILD_EXIT=(f"            if (v >= {r}u) {{\n                return v - {r}u;\n"
                    "            }" if r else "            return v;"),
        NEXT=f"({step}) * {p.words}" if p.words > 1 else step,
        CHILD_DOC=(f"A child code v < {r} is the node i + v + ({off}) (i: the parent), any other "
                   f"the leaf v - {r};\n * a root code v < {n} is the node v, any other the leaf "
                   f"v - {n}."),
    )


def qtree_notes(ir: QuantizedTreeIR) -> tuple[str, ...]:
    s = ir.stats
    notes = [
        f"quantized {ir.mode}: {s.get('source_nodes')} split nodes -> {ir.n_nodes} "
        f"({s.get('pruned_nodes')} with identical children removed, {s.get('shared_nodes')} "
        f"shared), {s.get('source_leaves')} leaf vectors -> {ir.n_leaves}, "
        f"{len(ir.thresholds)} thresholds, {ir.bin_bits}-bit bins"
    ]
    if ir.wide_features:
        names = ir.meta.feature_names
        wide = ", ".join(f"{f} ({names[f]})" if names else str(f) for f in ir.wide_features)
        notes.append(f"int8: feature(s) {wide} have more than 8-bit bins hold; the bins vector "
                     "is stored as uint16")
    return tuple(notes)


def choose_strategy(ir: QuantizedTreeIR) -> str:
    """Eager bins cost a binary search per feature on every inference (about two reads per
    step); lazy keys cost one more table read per split visited. Pick the cheaper by that rough
    count, unless threshold indices would make node records a word longer than bin indices do.
    (Measured on the NSL-KDD 10x8 forest: keys 2,552 vs bins ~6,800 Cortex-M0+ cycles.)"""
    if pack_nodes(ir, global_bin=True).words > pack_nodes(ir).words:
        return "bins"
    m = ir.n_thresholds
    bin_reads = int(np.ceil(np.log2(m[m > 0] + 1)).sum()) + int((m > 0).sum())
    visits = ir.n_trees * max(expected_depth(ir), 1.0)
    if 2 * bin_reads < visits:
        return "bins"
    # nodes: each split's threshold key in its own record (the study's Tiny RF, 5 x depth 6:
    # 1,203 -> 941 Cortex-M0+ cycles), where its format fits and it costs at most a byte per
    # split more than keys' shared threshold table (4 bytes per split, minus 4 per threshold)
    extra = 4 * (ir.n_nodes - len(ir.thresholds))
    return "nodes" if fits(ir) and extra <= ir.n_nodes else "keys"


def expected_depth(ir: QuantizedTreeIR) -> float:
    """Mean over trees of the mean depth of the tree's leaves (no recursion)."""
    depths: list[float] = []
    for root in ir.roots:
        stack, seen = [(int(root), 0)], []
        while stack:
            c, d = stack.pop()
            if c < 0:
                seen.append(d)
            else:
                stack += [(int(ir.left[c]), d + 1), (int(ir.right[c]), d + 1)]
        depths.append(float(np.mean(seen)))
    return float(np.mean(depths)) if depths else 0.0


def emit_qtree_table(ir: QuantizedTreeIR, name: str, strategy: str | None = None) -> CSource:
    strategy = strategy or choose_strategy(ir)
    if strategy == "nodes" and not fits(ir):
        strategy = "keys"  # the same lazy test, thresholds in their own table
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; one of {', '.join(STRATEGIES)}")
    return qtree_source(
        ir, name, "table", render("qtree_table.c.tmpl", **qtree_parts(ir, name, strategy)),
        runtime=RUNTIME, routing=": inputs are binned exactly against\n * every threshold",
        note=f"inputs: {STRATEGIES[strategy]}")


def qtree_source(ir: QuantizedTreeIR, name: str, layout: str, c_text: str, *,
                 runtime: tuple[str, ...], routing: str, note: str) -> CSource:
    """A quantized forest's files in one layout: its header (the reference guarantee; ``routing``
    says how the layout routes x, exactly as sklearn) and its C."""
    doc = (f" * Quantized ({ir.mode}) from {ir.stats.get('source_nodes')} split nodes{routing} "
           f"(routing equals sklearn's); leaf probabilities are rounded to 1/{ir.scale}\n * "
           "units, so predict and predict_proba may differ from sklearn where that rounding "
           "decides.")
    decls = Template(DECLS).substitute(NAME=name, UNAME=name.upper(), MODE=ir.mode,
                                       DEN=ir.denominator)
    files = {f"{name}.h": header(ir.meta, name, f"{layout}, quantized {ir.mode}",
                                 guarantee="reference", decls=decls, doc=doc),
             f"{name}.c": c_text}
    files.update(runtime_files(runtime))
    return CSource(name=name, files=files, n_features=ir.meta.n_features,
                   n_classes=ir.meta.n_classes, backend=layout, guarantee="reference",
                   notes=qtree_notes(ir) + (note,))
