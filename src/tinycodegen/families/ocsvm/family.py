"""OneClassSVM: libsvm's one-class decision as the SVC's exact path, and the quantized form."""

from tinycodegen.families.ocsvm.emit import emit_ocsvm, emit_qocsvm
from tinycodegen.families.ocsvm.ir import OneClassSVMIR
from tinycodegen.families.ocsvm.loader import load_ocsvm
from tinycodegen.families.ocsvm.qir import QuantizedOneClassSVMIR
from tinycodegen.families.ocsvm.quantize import quantize_ocsvm
from tinycodegen.families.registry import Family

FAMILY = Family(
    name="ocsvm",
    estimators={"OneClassSVM": load_ocsvm},
    kinds=("one_class_svm", "qone_class_svm"),
    emitters={("one_class_svm", "table"): emit_ocsvm, ("qone_class_svm", "table"): emit_qocsvm},
    quantizers={"one_class_svm": quantize_ocsvm},
    refusals={"qone_class_svm": "already quantized: its integers are the reference"},
    irs={"one_class_svm": OneClassSVMIR, "qone_class_svm": QuantizedOneClassSVMIR},
)
