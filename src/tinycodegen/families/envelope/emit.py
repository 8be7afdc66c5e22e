"""C writer for EllipticEnvelope (``ir/envelope.py``): SciPy's Mahalanobis loop in double."""

from __future__ import annotations

from tinycodegen._version import __version__
from tinycodegen.core.csource import CSource, c_array, c_double, render
from tinycodegen.core.detect_source import detector_source
from tinycodegen.core.transform_c import RUNTIME as TRANSFORM_RUNTIME
from tinycodegen.core.transform_c import transform_code, transform_decls
from tinycodegen.families.envelope.ir import EllipticEnvelopeIR


def emit_envelope(ir: EllipticEnvelopeIR, name: str) -> CSource:
    runtime = tuple(dict.fromkeys(TRANSFORM_RUNTIME + ("tcg_detect.h",)))
    tables = c_array("double", f"{name}_loc", [c_double(v) for v in ir.location], 4)
    tables += c_array("double", f"{name}_prec", [c_double(v) for v in ir.precision.ravel()], 4)
    c_text = render(
        "envelope.c.tmpl", NAME=name, UNAME=name.upper(), VERSION=__version__,
        ESTIMATOR=ir.meta.estimator, WIDTH=ir.width, ORDER=ir.dot_order,
        INCLUDES="".join(f'#include "{h}"\n' for h in runtime),
        TRANSFORM=transform_code(ir.transform, name, ir.meta.n_features), TABLES=tables,
        OFFSET=c_double(ir.offset),
    )
    doc = (
        f" * EllipticEnvelope over {ir.width} inputs: sklearn's arithmetic replayed in double\n"
        f" * (x - location_, SciPy's cdist loops in their order on the compiling host,\n"
        f" * {ir.dot_order}; sqrt from <math.h>, correctly rounded by IEEE 754, then squared):\n"
        " * predict, decision_function and score_samples equal sklearn's (rounded to float)\n"
        " * for every float input. Build with -ffp-contract=off; link with -lm.\n"
    )
    return detector_source(ir.meta, name, c_text, doc=doc, guarantee="exact", runtime=runtime,
                           decls=transform_decls(ir.transform, name))
