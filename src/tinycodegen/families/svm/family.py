"""The kernel SVM family: SVC and NuSVC (one-vs-one), exact and quantized ("qsvm")."""

from tinycodegen.families.registry import Family
from tinycodegen.families.svm.emit import emit_svc
from tinycodegen.families.svm.emit_quantized import emit_qsvm
from tinycodegen.families.svm.ir import SVCIR
from tinycodegen.families.svm.loader import load_svc
from tinycodegen.families.svm.qir import QSVMIR
from tinycodegen.families.svm.quantize import quantize_svc

FAMILY = Family(
    name="svm",
    estimators={"SVC": load_svc, "NuSVC": load_svc},
    kinds=("svc", "qsvm"),
    emitters={("svc", "table"): emit_svc, ("qsvm", "table"): emit_qsvm},
    quantizers={"svc": quantize_svc},
    refusals={"qsvm": "already quantized: its integers are the reference"},
    docs=("svm_blas.md",),
    irs={"svc": SVCIR, "qsvm": QSVMIR},
)
