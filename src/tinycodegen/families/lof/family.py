"""LocalOutlierFactor(novelty=True): every distance to the stored training set, k smallest."""

from tinycodegen.families.lof.emit import emit_lof
from tinycodegen.families.lof.ir import LocalOutlierFactorIR
from tinycodegen.families.lof.loader import load_lof
from tinycodegen.families.registry import Family

FAMILY = Family(
    name="lof",
    estimators={"LocalOutlierFactor": load_lof},
    kinds=("local_outlier_factor",),
    emitters={("local_outlier_factor", "table"): emit_lof},
    refusals={"local_outlier_factor": "no integer form: distances and reachabilities are "
              "compiled in double only"},
    irs={"local_outlier_factor": LocalOutlierFactorIR},
)
