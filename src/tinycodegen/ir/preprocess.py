"""IR of the preprocessing in front of an estimator (scalers, encoders, column transformers).

The C takes the raw feature vector in the original column order (float32; a categorical column
as the integer index of its value in the fitted encoder's ``categories_``, -1 for unseen). The
transform produces, in float64 and exactly as sklearn computes it, the vector the estimator sees.

SKELETON owned by the preprocessing work: families call :meth:`InputTransform.apply` in their
reference evaluators and ``tinycodegen.emit.transform.transform_code`` in their C.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, eq=False)
class InputTransform:
    n_inputs: int  # raw C input width
    n_outputs: int  # width the estimator sees
    steps: tuple[object, ...] = field(default=())

    def apply(self, X: np.ndarray) -> np.ndarray:
        """float64 (n, n_outputs): what sklearn's transform gives for these float32 rows."""
        raise NotImplementedError

    def rejects(self, X: np.ndarray) -> np.ndarray:
        """bool per row: input the C rejects (returns -1 for)."""
        raise NotImplementedError


def model_inputs(transform: InputTransform | None, X: np.ndarray) -> np.ndarray:
    """The float64 rows an estimator sees: transformed, or the float32 input widened."""
    X = np.asarray(X, dtype=np.float32)
    if transform is None:
        return X.astype(np.float64)
    return transform.apply(X)
