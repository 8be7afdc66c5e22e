"""C writer for OneClassSVM (``ir/ocsvm.py``): the SVC's exact kernels, one sum, one sign."""

from __future__ import annotations

from tinycodegen._version import __version__
from tinycodegen.emit.common import CSource, c_array, c_double, c_float, header, render
from tinycodegen.emit.emit_svm import RUNTIME as SVM_RUNTIME
from tinycodegen.emit.emit_svm import k64_body
from tinycodegen.emit.registry import register_emitter
from tinycodegen.emit.runtime import runtime_files
from tinycodegen.emit.transform import RUNTIME as TRANSFORM_RUNTIME
from tinycodegen.emit.transform import transform_code, transform_decls
from tinycodegen.ir.detect import EXTRA_FUNCTIONS, header_decls
from tinycodegen.ir.ocsvm import OneClassSVMIR


@register_emitter("one_class_svm", "table")
def emit_ocsvm(ir: OneClassSVMIR, name: str) -> CSource:
    svc, up = ir.svc, name.upper()
    runtime = tuple(dict.fromkeys(SVM_RUNTIME + TRANSFORM_RUNTIME + ("tcg_detect.h",)))
    if svc.sv_exact_f32:  # every value is a float: stored once, as float
        tables = c_array("float", f"{name}_sv32", [c_float(v) for v in svc.sv.ravel()], 6)
        sv_expr = f"(double){name}_sv32[i * {up}_NZ + j]"
    else:
        tables = c_array("double", f"{name}_sv64", [c_double(v) for v in svc.sv.ravel()], 4)
        sv_expr = f"{name}_sv64[i * {up}_NZ + j]"
    tables += c_array("double", f"{name}_coef", [c_double(v) for v in svc.dual_coef[0]], 4)
    k64, kdoc = k64_body(svc, name, sv_expr)
    c_text = render(
        "ocsvm.c.tmpl", NAME=name, UNAME=up, VERSION=__version__, ESTIMATOR=ir.meta.estimator,
        KERNEL=svc.kernel, N_SV=svc.n_sv, WIDTH=svc.width,
        INCLUDES="".join(f'#include "{h}"\n' for h in runtime),
        TRANSFORM=transform_code(ir.transform, name, ir.meta.n_features), TABLES=tables,
        KERNEL_DOC=kdoc, K64_BODY=k64, RHO=c_double(svc.rho[0]), OFFSET=c_double(ir.offset),
    )
    doc = (
        f" * OneClassSVM, {svc.kernel} kernel, {svc.n_sv} support vectors: libsvm's double\n"
        " * arithmetic replayed operation for operation (kernel dot products in the order of the\n"
        f" * BLAS ddot scikit-learn used when compiled, {svc.dot_order}; exp and tanh from\n"
        " * <math.h>). predict, decision_function and score_samples equal sklearn's where the\n"
        " * BLAS kernel and libm are those of the compiling host. Build with -ffp-contract=off.\n"
    )
    decls = header_decls(name) + transform_decls(ir.transform, name)
    files = {f"{name}.h": header(ir.meta, name, "table", decls=decls, doc=doc, proba=False),
             f"{name}.c": c_text}
    files.update(runtime_files(runtime))
    return CSource(name=name, files=files, n_features=ir.meta.n_features, n_classes=2,
                   backend="table", extra_functions=EXTRA_FUNCTIONS, proba=False,
                   guarantee="exact")
