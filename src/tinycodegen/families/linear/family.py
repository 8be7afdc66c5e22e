"""The linear family: LogisticRegression, LinearSVC, SGD, Ridge, Perceptron, PassiveAggressive.
Quantized, a linear model becomes a "qnet" (the MLP family's integer network)."""

from tinycodegen.families.linear.emit import emit_linear
from tinycodegen.families.linear.ir import LinearIR
from tinycodegen.families.linear.loader import LINEAR_CLASSIFIERS, load_linear
from tinycodegen.families.linear.quantize import quantize_linear
from tinycodegen.families.registry import Family

FAMILY = Family(
    name="linear",
    estimators={k: load_linear for k in LINEAR_CLASSIFIERS},
    kinds=("linear",),
    emitters={("linear", "table"): emit_linear},
    quantizers={"linear": quantize_linear},
    irs={"linear": LinearIR},
)
