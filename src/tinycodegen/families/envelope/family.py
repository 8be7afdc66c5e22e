"""EllipticEnvelope: SciPy's Mahalanobis loop in double."""

from tinycodegen.families.envelope.emit import emit_envelope
from tinycodegen.families.envelope.ir import EllipticEnvelopeIR
from tinycodegen.families.envelope.loader import load_envelope
from tinycodegen.families.registry import Family

FAMILY = Family(
    name="envelope",
    estimators={"EllipticEnvelope": load_envelope},
    kinds=("elliptic_envelope",),
    emitters={("elliptic_envelope", "table"): emit_envelope},
    refusals={"elliptic_envelope": "no integer form: the Mahalanobis distance is compiled in "
              "double only"},
    irs={"elliptic_envelope": EllipticEnvelopeIR},
)
