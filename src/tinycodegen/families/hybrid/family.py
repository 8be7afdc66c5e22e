"""VotingClassifier (hard, soft) and StackingClassifier over members of any family; the
quantized vote ("qhybrid")."""

from tinycodegen.families.hybrid.emit import emit_hybrid
from tinycodegen.families.hybrid.emit_quantized import emit_qhybrid, emit_qhybrid_speed
from tinycodegen.families.hybrid.ir import HybridIR
from tinycodegen.families.hybrid.loader import load_stacking, load_voting
from tinycodegen.families.hybrid.qir import QHybridIR
from tinycodegen.families.hybrid.quantize import quantize_hybrid
from tinycodegen.families.registry import Family

FAMILY = Family(
    name="hybrid",
    estimators={"VotingClassifier": load_voting, "StackingClassifier": load_stacking},
    kinds=("hybrid", "qhybrid"),
    emitters={("hybrid", "table"): emit_hybrid, ("qhybrid", "table"): emit_qhybrid,
              ("qhybrid", "speed"): emit_qhybrid_speed},
    quantizers={"hybrid": quantize_hybrid},
    refusals={"qhybrid": "already quantized: its integers are the reference"},
    irs={"hybrid": HybridIR, "qhybrid": QHybridIR},
)
