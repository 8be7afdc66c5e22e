"""IsolationForest: exact path lengths in float64, and the quantized form."""

from tinycodegen.families.iforest.emit import emit_iforest, emit_qiforest
from tinycodegen.families.iforest.ir import IsolationForestIR
from tinycodegen.families.iforest.loader import load_iforest
from tinycodegen.families.iforest.qir import QuantizedIsolationForestIR
from tinycodegen.families.iforest.quantize import quantize_iforest
from tinycodegen.families.registry import Family

FAMILY = Family(
    name="iforest",
    estimators={"IsolationForest": load_iforest},
    kinds=("isolation_forest", "qisolation_forest"),
    emitters={("isolation_forest", "table"): emit_iforest,
              ("qisolation_forest", "table"): emit_qiforest},
    quantizers={"isolation_forest": quantize_iforest},
    refusals={"qisolation_forest": "already quantized: its integers are the reference"},
    irs={"isolation_forest": IsolationForestIR, "qisolation_forest": QuantizedIsolationForestIR},
)
