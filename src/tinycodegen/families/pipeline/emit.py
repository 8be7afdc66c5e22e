"""C for a pipeline in front of a tree ensemble (``PipelineTreeIR``).

The folded core is written by the ordinary tree writer of the chosen backend as the model
``NAME_core``; ``NAME.c`` builds the core's input vector from the raw input (copies for folded
columns, the compiled transform for the rest) and forwards the calls.
"""

from __future__ import annotations

from tinycodegen._version import __version__
from tinycodegen.core.csource import CSource, c_array, c_float, header, int_type, render
from tinycodegen.core.runtime import runtime_files
from tinycodegen.core.transform_c import RUNTIME, transform_code, transform_decls, transform_doc
from tinycodegen.families.pipeline.ir import PipelineTreeIR
from tinycodegen.families.registry import emit

PROBA64_DECL = """
/* sklearn's predict_proba in double, unrounded; zeros for rejected input: for composites. */
void {name}_proba64(const float *x, double *out);
"""


def emit_pipeline_tree(ir: PipelineTreeIR, name: str, backend: str) -> CSource:
    core_name = f"{name}_core"
    core = emit(ir.core, core_name, backend)
    raw = ir.raw_src.tolist()
    if raw == list(range(len(raw))):
        raw_expr, raw_table = "i", ""
    else:
        ctype = int_type(0, max(raw, default=0))
        raw_table = c_array(ctype, f"{name}_raw_src", raw or [0], per_line=16)
        raw_expr = f"{name}_raw_src[i]"
    if ir.bounded:
        raw_table += "/* accepted range of each raw input in v (outside: sklearn rejects) */\n"
        raw_table += c_array("float", f"{name}_raw_lo", [c_float(v) for v in ir.raw_lo], 6)
        raw_table += c_array("float", f"{name}_raw_hi", [c_float(v) for v in ir.raw_hi], 6)
        raw_copy = render("pipeline_tree_bounded.c.tmpl", NAME=name, N_RAW=ir.n_raw,
                          RAW_SRC=raw_expr)
    else:
        raw_copy = (f"    for (int32_t i = 0; i < {ir.n_raw}; ++i) {{\n"
                    f"        v[i] = x[{raw_expr}];\n    }}\n")
    c_text = render(
        "pipeline_tree.c.tmpl", NAME=name, UNAME=name.upper(), CORE=core_name.upper(),
        VERSION=__version__, N_TREES=ir.core.n_trees, N_RAW=ir.n_raw, FOLDED=ir.folded,
        RAW_COPY=raw_copy,
        RAW_TABLE=raw_table,
        TRANSFORM=transform_code(ir.prep, name, ir.meta.n_features, final_check=False,
                                 out="float"),
    )
    nan = ("NaN in a numeric column is routed as sklearn routes it"
           if ir.meta.nan_policy == "route" else "NaN in a column the trees see returns -1")
    doc = "\n".join([
        transform_doc(ir.prep),
        f" * Trees: {ir.core.n_trees}; {ir.folded} scaled column(s) folded into the thresholds "
        f"(exact).\n * {nan}; columns the pipeline drops are ignored.",
    ])
    decls = transform_decls(ir.prep, name) + PROBA64_DECL.format(name=name)
    files = dict(core.files)
    files[f"{name}.h"] = header(ir.meta, name, backend, decls=decls, doc=doc)
    files[f"{name}.c"] = c_text
    files.update(runtime_files(RUNTIME))
    return CSource(name=name, files=files, n_features=ir.meta.n_features,
                   n_classes=ir.meta.n_classes, backend=backend)
