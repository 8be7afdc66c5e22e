"""CalibratedClassifierCV around any classifier family (sigmoid or isotonic)."""

from tinycodegen.families.calibrated.emit import emit_calibrated
from tinycodegen.families.calibrated.ir import CalibratedIR
from tinycodegen.families.calibrated.loader import load_calibrated
from tinycodegen.families.calibrated.quantize import quantize_calibrated
from tinycodegen.families.registry import Family

FAMILY = Family(
    name="calibrated",
    estimators={"CalibratedClassifierCV": load_calibrated},
    kinds=("calibrated",),
    emitters={("calibrated", "table"): emit_calibrated},
    quantizers={"calibrated": quantize_calibrated},
    irs={"calibrated": CalibratedIR},
)
