"""IR of the preprocessing in front of an estimator (scalers, encoders, column transformers).

The C takes the raw feature vector in the original column order (float32). A categorical column
is given as the integer index of its value in the fitted encoder's ``categories_`` and -1 for a
value the encoder never saw; any other value there (NaN, +-inf, 1.5, -2, K) is rejected.

Every supported step works column by column, so the whole transform is one list of outputs:

- :class:`NumericOutput`: ``z = ops(float64(x[src]))``, a chain of IEEE double operations in
  sklearn's order (``Opcode.CHECK`` is a scaler's input validation: +-inf is rejected, NaN passes).
- :class:`CodeOutput`: ``z = table[code + 1]``, the encoder output (and any later scaling) for
  each code, obtained from sklearn's own transform of every category and of an unseen value.

``apply`` gives, in float64 and bit for bit, what sklearn's transform gives; rows the transform
itself rejects (invalid code, unknown category with ``handle_unknown='error'``, +-inf into a
scaler) come out all NaN, so ``~isfinite(z).all(1)`` is exactly what ``NAME_input`` rejects.
Families call :func:`model_inputs` in their reference evaluators and
``tinycodegen.core.transform_c.transform_code`` in their C.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np


class Opcode(IntEnum):
    """One IEEE double operation of a scaler, as sklearn applies it (stored as plain ints)."""

    CHECK = 0  # a scaler's input validation: +-inf rejected, NaN passes
    MUL = 1
    ADD = 2
    SUB = 3
    DIV = 4
    CLIP = 5  # (a=low, b=high)

Op = tuple[int, float, float]  # (opcode, a, b); b only for clip (a=low, b=high)


@dataclass(frozen=True)
class NumericOutput:
    src: int  # raw input column
    ops: tuple[Op, ...] = ()

    @property
    def signature(self) -> tuple[int, ...]:
        return tuple(op for op, _, _ in self.ops)


@dataclass(frozen=True, eq=False)
class CodeOutput:
    src: int  # raw categorical input column
    table: np.ndarray  # float64 (K + 1,): z for code -1 (unseen), 0, ..., K - 1


@dataclass(frozen=True, eq=False)
class CategoricalInput:
    index: int  # raw input column
    name: str  # C identifier of the column (NAME_<name>_code)
    labels: tuple[str, ...]  # category names, index = code
    reject: np.ndarray  # bool (K + 1,): code c is rejected when reject[c + 1]
    values: np.ndarray | None = None  # the fitted categories_ (used to code raw data)
    column: str | None = None  # the column's own name (fitted with names), as the user wrote it

    @property
    def n_categories(self) -> int:
        return len(self.labels)


Output = NumericOutput | CodeOutput


@dataclass(frozen=True, eq=False)
class InputTransform:
    n_inputs: int  # raw C input width
    n_outputs: int  # width the estimator sees
    outputs: tuple[Output, ...] = field(default=())
    categorical: tuple[CategoricalInput, ...] = field(default=())
    sparse_output: bool = False  # the estimator receives a sparse matrix (same values)
    steps: tuple[str, ...] = field(default=())  # "name: Class" of each step (comment_text)

    def __post_init__(self) -> None:
        if len(self.outputs) != self.n_outputs:
            raise ValueError(f"transform: {len(self.outputs)} outputs, not {self.n_outputs}")
        for c in self.categorical:
            if len(c.reject) != c.n_categories + 1:
                raise ValueError(f"transform: reject mask of column {c.index} has wrong size")
            c.reject.setflags(write=False)
        for o in self.outputs:
            if isinstance(o, CodeOutput):
                o.table.setflags(write=False)

    def category_of(self, src: int) -> CategoricalInput:
        for c in self.categorical:
            if c.index == src:
                return c
        raise KeyError(src)

    # ---- reference --------------------------------------------------------------------------
    def codes(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(int64 codes (n, n_categorical), bool per row: some code invalid or rejected)."""
        X = np.asarray(X, dtype=np.float32)
        codes = np.zeros((X.shape[0], len(self.categorical)), dtype=np.int64)
        bad = np.zeros(X.shape[0], dtype=bool)
        for k, c in enumerate(self.categorical):
            v = X[:, c.index].astype(np.float64)
            with np.errstate(invalid="ignore"):
                ok = (v >= -1) & (v <= c.n_categories - 1) & (v == np.floor(v))
            code = np.where(ok, v, -1).astype(np.int64)
            ok &= ~c.reject[code + 1]
            codes[:, k] = code
            bad |= ~ok
        return codes, bad

    def compute(self, X: np.ndarray, columns: list[int] | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
        """(z float64 of the selected outputs, bool per row rejected by the transform itself).

        The transform rejects a row for an invalid or rejected code, or +-inf into a scaler; z
        of the other rows is exactly sklearn's (NaN and non-finite results included)."""
        X = np.asarray(X, dtype=np.float32)
        cols = list(range(self.n_outputs)) if columns is None else columns
        codes, bad = self.codes(X)
        which = {c.index: k for k, c in enumerate(self.categorical)}
        z = np.empty((X.shape[0], len(cols)), dtype=np.float64)
        for j, col in enumerate(cols):
            out = self.outputs[col]
            if isinstance(out, CodeOutput):
                z[:, j] = out.table[codes[:, which[out.src]] + 1]
            else:
                z[:, j], rej = run_ops(out.ops, X[:, out.src].astype(np.float64))
                bad |= rej
        return z, bad

    def apply(self, X: np.ndarray) -> np.ndarray:
        """float64 (n, n_outputs): what sklearn's transform gives; rejected rows all NaN."""
        z, bad = self.compute(X)
        z[bad] = np.nan
        return z

    def rejects(self, X: np.ndarray) -> np.ndarray:
        """bool per row: input ``NAME_input`` rejects (transform rejects, or a non-finite z)."""
        return ~np.isfinite(self.apply(X)).all(axis=1)


def run_ops(ops: tuple[Op, ...], v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Apply an op chain to float64 values, as sklearn does; also the rows a check rejects."""
    v = np.array(v, dtype=np.float64)
    bad = np.zeros(v.shape, dtype=bool)
    with np.errstate(all="ignore"):
        for op, a, b in ops:
            if op == Opcode.CHECK:
                bad |= np.isinf(v)
            elif op == Opcode.MUL:
                v *= a
            elif op == Opcode.ADD:
                v += a
            elif op == Opcode.SUB:
                v -= a
            elif op == Opcode.DIV:
                v /= a
            elif op == Opcode.CLIP:
                v = np.clip(v, a, b)
            else:  # pragma: no cover - guard
                raise ValueError(f"unknown op {op}")
    return v, bad


def model_inputs(transform: InputTransform | None, X: np.ndarray) -> np.ndarray:
    """The float64 rows an estimator sees: transformed, or the float32 input widened.

    With a transform, rows the transform rejects are all NaN (see :meth:`InputTransform.apply`).
    """
    X = np.asarray(X, dtype=np.float32)
    if transform is None:
        return X.astype(np.float64)
    return transform.apply(X)
