"""The MLP family: MLPClassifier, and "qnet", the integer network quantized linear models and
MLPs both become."""

from tinycodegen.families.mlp.emit import emit_mlp
from tinycodegen.families.mlp.emit_qnet import emit_qnet
from tinycodegen.families.mlp.ir import MLPIR
from tinycodegen.families.mlp.loader import load_mlp
from tinycodegen.families.mlp.qnet import QNetIR
from tinycodegen.families.mlp.quantize import quantize_mlp
from tinycodegen.families.registry import Family

FAMILY = Family(
    name="mlp",
    estimators={"MLPClassifier": load_mlp},
    kinds=("mlp", "qnet"),
    emitters={("mlp", "table"): emit_mlp, ("qnet", "table"): emit_qnet},
    quantizers={"mlp": quantize_mlp},
    refusals={"qnet": "already quantized: its integers are the reference"},
    irs={"mlp": MLPIR, "qnet": QNetIR},
)
