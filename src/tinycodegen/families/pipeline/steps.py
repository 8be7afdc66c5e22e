"""One preprocessing step at a time: what each fitted sklearn transformer does to each column.

A :class:`Block` is the symbolic matrix between two steps: one entry per column, each a
:class:`NumericOutput` (op chain on a raw column) or a :class:`CodeOutput` (value per category
code of a raw categorical column). Scalers append the IEEE operations sklearn performs, in its
order; encoders are read by asking sklearn itself to transform every category and one unseen
value, so ``handle_unknown``, ``drop``, infrequent categories and ``unknown_value`` are exactly
sklearn's.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinycodegen.core.classes import sklearn_class
from tinycodegen.core.preprocess import CodeOutput, NumericOutput, Op, Opcode, run_ops
from tinycodegen.errors import UnsupportedModelError

Sym = NumericOutput | CodeOutput
SUPPORTED = ("MinMaxScaler", "StandardScaler", "MaxAbsScaler", "OneHotEncoder", "OrdinalEncoder",
             "ColumnTransformer", "Pipeline", "'passthrough'")


@dataclass
class Block:
    cols: list[Sym]
    sparse: bool = False
    dtype: np.dtype = field(default_factory=lambda: np.dtype(np.float64))


@dataclass
class Categories:
    """What the encoders of one raw column share: their categories and the rejected codes."""

    values: np.ndarray
    reject: np.ndarray  # bool (K + 1,)


def unsupported(name: str, est: Any, why: str = "") -> UnsupportedModelError:
    cls = est if isinstance(est, str) else type(est).__name__
    detail = f": {why}" if why else f"; supported steps: {', '.join(SUPPORTED)}"
    return UnsupportedModelError(f"Pipeline step '{name}' ({cls}) is not supported{detail}")


class Walker:
    """Applies fitted steps to a Block; collects the categorical raw columns on the way."""

    def __init__(self) -> None:
        self.cats: dict[int, Categories] = {}

    def step(self, name: str, est: Any, block: Block) -> Block:
        if est is None or (isinstance(est, str) and est == "passthrough"):
            return block
        if isinstance(est, str):
            raise unsupported(name, est)
        try:
            cls = sklearn_class(est)
        except UnsupportedModelError as exc:
            raise UnsupportedModelError(f"Pipeline step '{name}': {exc}") from None
        handler = getattr(self, f"_{cls}", None)
        if handler is None:
            raise unsupported(name, est)
        return handler(name, est, block)

    # ---- containers -----------------------------------------------------------------------
    def _Pipeline(self, name: str, est: Any, block: Block) -> Block:
        for sub, trans in est.steps:
            block = self.step(f"{name}/{sub}", trans, block)
        return block

    def _ColumnTransformer(self, name: str, est: Any, block: Block) -> Block:
        if block.sparse:
            raise unsupported(name, est, "its input is a sparse matrix")
        indices = est._transformer_to_input_indices
        weights = est.transformer_weights or {}
        parts: list[Block] = []
        for tname, trans, _ in est.transformers_:
            if tname not in indices:  # renamed after fit: sklearn's own transform fails too
                raise unsupported(name, est, f"its transformer {tname!r} has no recorded input "
                                             "columns (the fitted object is inconsistent)")
            idx = list(indices[tname])
            if (isinstance(trans, str) and trans == "drop") or not idx:
                continue
            part = self.step(f"{name}/{tname}", trans, Block([block.cols[i] for i in idx],
                                                             False, block.dtype))
            w = weights.get(tname)
            if w is not None:
                part.cols = self._ops(part.cols, [[(Opcode.MUL, float(w), 0.0)]] * len(part.cols))
            parts.append(part)
        cols = [c for p in parts for c in p.cols]
        dtype = np.result_type(*(p.dtype for p in parts)) if parts else np.dtype(np.float64)
        return Block(cols, bool(getattr(est, "sparse_output_", False)), np.dtype(dtype))

    def _FunctionTransformer(self, name: str, est: Any, block: Block) -> Block:
        if est.func is None and not est.validate:
            return block  # what 'passthrough' becomes inside a fitted ColumnTransformer
        raise unsupported(name, est, "only the identity (func=None, validate=False) is")

    # ---- scalers ---------------------------------------------------------------------------
    def _scaler_input(self, name: str, est: Any, block: Block) -> None:
        if block.dtype.kind == "f" and block.dtype != np.float64:
            raise unsupported(name, est, f"it would scale {block.dtype} values (only float64)")
        if int(est.n_features_in_) != len(block.cols):
            raise unsupported(name, est, "fitted on a different number of columns")

    def _MinMaxScaler(self, name: str, est: Any, block: Block) -> Block:
        self._scaler_input(name, est, block)
        lo, hi = (float(v) for v in est.feature_range)
        chains = []
        for s, m in zip(np.asarray(est.scale_, np.float64), np.asarray(est.min_, np.float64),
                        strict=True):
            ops: list[Op] = [(Opcode.CHECK, 0.0, 0.0), (Opcode.MUL, float(s), 0.0),
                             (Opcode.ADD, float(m), 0.0)]
            if est.clip:
                ops.append((Opcode.CLIP, lo, hi))
            chains.append(ops)
        return Block(self._ops(block.cols, chains), block.sparse)

    def _StandardScaler(self, name: str, est: Any, block: Block) -> Block:
        self._scaler_input(name, est, block)
        n = len(block.cols)
        chains: list[list[Op]] = [[(Opcode.CHECK, 0.0, 0.0)] for _ in range(n)]
        scale = None if est.scale_ is None else np.asarray(est.scale_, np.float64)
        if block.sparse:  # sklearn multiplies by the reciprocal on sparse input
            if scale is not None:
                for ops, r in zip(chains, 1 / scale, strict=True):
                    ops.append((Opcode.MUL, float(r), 0.0))
        else:
            if est.with_mean:
                for ops, m in zip(chains, np.asarray(est.mean_, np.float64), strict=True):
                    ops.append((Opcode.SUB, float(m), 0.0))
            if est.with_std and scale is not None:
                for ops, s in zip(chains, scale, strict=True):
                    ops.append((Opcode.DIV, float(s), 0.0))
        return Block(self._ops(block.cols, chains), block.sparse)

    def _MaxAbsScaler(self, name: str, est: Any, block: Block) -> Block:
        self._scaler_input(name, est, block)
        scale = np.asarray(est.scale_, np.float64)
        chains: list[list[Op]] = []
        for s, r in zip(scale, 1.0 / scale, strict=True):
            op = (Opcode.MUL, float(r), 0.0) if block.sparse else (Opcode.DIV, float(s), 0.0)
            ops: list[Op] = [(Opcode.CHECK, 0.0, 0.0), op]
            if getattr(est, "clip", False):
                ops.append((Opcode.CLIP, -1.0, 1.0))
            chains.append(ops)
        return Block(self._ops(block.cols, chains), block.sparse)

    def _ops(self, cols: list[Sym], chains: list[list[Op]]) -> list[Sym]:
        out: list[Sym] = []
        for col, ops in zip(cols, chains, strict=True):
            if isinstance(col, NumericOutput):
                out.append(NumericOutput(col.src, col.ops + tuple(ops)))
            else:  # a function of the category code: apply to every code's value
                table, bad = run_ops(tuple(ops), col.table)
                self.cats[col.src].reject |= bad
                out.append(CodeOutput(col.src, table))
        return out

    # ---- encoders --------------------------------------------------------------------------
    def _OneHotEncoder(self, name: str, est: Any, block: Block) -> Block:
        widths = [int(w) for w in est._n_features_outs]
        return self._encode(name, est, block, widths, bool(est.sparse_output))

    def _OrdinalEncoder(self, name: str, est: Any, block: Block) -> Block:
        return self._encode(name, est, block, [1] * len(est.categories_), False)

    def _encode(self, name: str, est: Any, block: Block, widths: list[int],
                sparse: bool) -> Block:
        srcs = []
        for col in block.cols:
            if not isinstance(col, NumericOutput) or col.ops:
                raise unsupported(name, est, "an encoder must see raw input columns")
            srcs.append(col.src)
        known, unknown = probe_encoder(est)
        cols: list[Sym] = []
        offset = 0
        for i, (src, cats) in enumerate(zip(srcs, est.categories_, strict=True)):
            k, w = len(cats), widths[i]
            block_cols = slice(offset, offset + w)
            offset += w
            table = np.empty((k + 1, w), dtype=np.float64)
            table[1:] = known[:k, block_cols]
            reject = np.zeros(k + 1, dtype=bool)
            if unknown[i] is None:
                reject[0] = True
                table[0] = 0.0
            else:
                table[0] = unknown[i][block_cols]
            self._register(name, est, src, np.asarray(cats), reject)
            cols.extend(CodeOutput(src, table[:, j].copy()) for j in range(w))
        if offset != known.shape[1]:
            raise unsupported(name, est, "cannot map its output columns to its input columns")
        return Block(cols, sparse, np.dtype(est.dtype))

    def _register(self, name: str, est: Any, src: int, values: np.ndarray,
                  reject: np.ndarray) -> None:
        have = self.cats.get(src)
        if have is None:
            self.cats[src] = Categories(values, reject)
            return
        if len(have.values) != len(values) or not all(
                _same(a, b) for a, b in zip(have.values, values, strict=True)):
            raise unsupported(name, est, f"input column {src} is encoded with different "
                              "categories by two encoders")
        have.reject |= reject


def _same(a: Any, b: Any) -> bool:
    return bool(a == b) or (a != a and b != b)


def unseen_value(cats: np.ndarray) -> Any:
    """A value not among ``cats`` of the same kind (string or number)."""
    if cats.dtype.kind in "fiub":
        finite = cats[np.isfinite(cats.astype(np.float64))] if len(cats) else cats
        return float(finite.max()) + 1.0 if len(finite) else 0.0
    taken = {str(c) for c in cats}
    s = "__tcg_unseen__"
    while s in taken:
        s += "_"
    return s


def _frame(est: Any, columns: list[np.ndarray]) -> Any:
    names = getattr(est, "feature_names_in_", None)
    if names is None:
        kinds = {c.dtype.kind for c in columns}
        return np.column_stack(columns).astype(object if "O" in kinds else np.float64)
    import pandas as pd

    return pd.DataFrame({str(n): c for n, c in zip(names, columns, strict=True)})


def _column(cats: np.ndarray, values: list[Any]) -> np.ndarray:
    if cats.dtype.kind in "fiub":
        return np.asarray(values, dtype=np.float64)
    return np.asarray(values, dtype=object)


def probe_encoder(est: Any) -> tuple[np.ndarray, list[np.ndarray | None]]:
    """sklearn's output for every category of every column (row r: category r, or 0 past the
    end), and per column the output row for an unseen value (None if sklearn raises)."""
    cats = [np.asarray(c) for c in est.categories_]
    rows = max(len(c) for c in cats)
    known_cols = [_column(c, [c[min(r, len(c) - 1)] for r in range(rows)]) for c in cats]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        known = _dense(est.transform(_frame(est, known_cols)))
        unknown: list[np.ndarray | None] = []
        for i, c in enumerate(cats):
            cols = [_column(cc, [cc[0]]) for cc in cats]
            cols[i] = _column(c, [unseen_value(c)])
            try:
                unknown.append(_dense(est.transform(_frame(est, cols)))[0])
            except ValueError:
                unknown.append(None)
    return known, unknown


def _dense(a: Any) -> np.ndarray:
    a = a.toarray() if hasattr(a, "toarray") else np.asarray(a)
    return np.asarray(a, dtype=np.float64)
