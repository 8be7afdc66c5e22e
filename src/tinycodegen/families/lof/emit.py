"""C writer for LocalOutlierFactor(novelty=True) (``ir/lof.py``): every distance, k smallest."""

from __future__ import annotations

import numpy as np

from tinycodegen._version import __version__
from tinycodegen.core.csource import CSource, c_array, c_double, c_float, render
from tinycodegen.core.detect_source import detector_source
from tinycodegen.core.transform_c import RUNTIME as TRANSFORM_RUNTIME
from tinycodegen.core.transform_c import transform_code, transform_decls
from tinycodegen.families.lof.ir import LocalOutlierFactorIR


def _exact32(a: np.ndarray) -> bool:
    return bool((a.astype(np.float32).astype(np.float64) == a).all())


def _table(name: str, values: np.ndarray) -> tuple[str, bool]:
    if _exact32(values):
        return c_array("float", name, [c_float(v) for v in values.ravel()], 6), True
    return c_array("double", name, [c_double(v) for v in values.ravel()], 4), False


def _psum(k: int) -> tuple[str, str]:
    if k < 8:
        terms = "".join(f"    s += a[{i}];\n" for i in range(k))
        return f"    double s = 0.0;\n{terms}    return s;\n", "in order"
    body = "    double r[8];\n    int32_t i, j;\n    for (j = 0; j < 8; ++j) {\n"
    body += "        r[j] = a[j];\n    }\n"
    body += f"    for (i = 8; i < {k - k % 8}; i += 8) {{\n        for (j = 0; j < 8; ++j) {{\n"
    body += "            r[j] += a[i + j];\n        }\n    }\n"
    body += "    r[0] = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));\n"
    body += f"    for (i = {k - k % 8}; i < {k}; ++i) {{\n        r[0] += a[i];\n    }}\n"
    return body + "    return r[0];\n", "8 lanes, folded as a tree, then the tail"


def emit_lof(ir: LocalOutlierFactorIR, name: str) -> CSource:
    up = name.upper()
    runtime = tuple(dict.fromkeys(TRANSFORM_RUNTIME + ("tcg_detect.h",)))
    fit, f32 = _table(f"{name}_fit", ir.fit_x)
    kd, k32 = _table(f"{name}_kdist", ir.k_distance)
    tables = fit + kd + c_array("double", f"{name}_lrd", [c_double(v) for v in ir.lrd], 4)
    fit_expr = f"{name}_fit[j * {up}_NZ + f]"
    kd_expr = f"{name}_kdist[who[i]]"
    psum, psum_doc = _psum(ir.k)
    c_text = render(
        "lof.c.tmpl", NAME=name, UNAME=up, VERSION=__version__, ESTIMATOR=ir.meta.estimator,
        N_TRAIN=ir.n_train, WIDTH=ir.width, K=ir.k,
        INCLUDES="".join(f'#include "{h}"\n' for h in runtime),
        TRANSFORM=transform_code(ir.transform, name, ir.meta.n_features), TABLES=tables,
        PSUM=psum, PSUM_DOC=psum_doc, OFFSET=c_double(ir.offset),
        FIT=f"(double){fit_expr}" if f32 else fit_expr,
        KDIST=f"(double){kd_expr}" if k32 else kd_expr,
    )
    doc = (
        f" * LocalOutlierFactor(novelty=True), {ir.n_train} training points stored, k = {ir.k}:\n"
        " * sklearn's arithmetic in double (tree-query euclidean distances summed in feature\n"
        " * order, sqrt, reach distances, numpy's pairwise means). Equal to sklearn's predict and\n"
        " * scores (rounded to float) on every row without a tie among its k + 1 nearest\n"
        " * distances; with a tie sklearn's tree traversal chooses the neighbours' order (last\n"
        " * bits). Every distance is computed: time grows with the training set.\n"
    )
    return detector_source(ir.meta, name, c_text, doc=doc, guarantee="band", runtime=runtime,
                           decls=transform_decls(ir.transform, name))
