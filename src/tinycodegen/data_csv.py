"""Strict CSV rows for ``check --data file.csv`` / ``--calibration file.csv``.

Rules (also in the README):

- Cells are separated by commas (the ``csv`` module's quoting); spaces around a cell are ignored
  and blank lines are skipped. Every row has as many cells as the first.
- A cell is a decimal number (``1``, ``-2.5``, ``3e-7``), ``nan`` or ``inf`` / ``-inf`` (any
  case). Anything else is an error naming its row and column; so is an empty cell (write ``nan``
  for a missing value: trees route it as sklearn does, other models reject the row). Columns
  that a Pipeline's encoder reads with text categories hold text (the category itself).
- Row 1 is a header when none of its cells is a number. Fitted with feature names, the model
  takes the columns by name (any order; an unknown, missing or repeated name is an error);
  fitted without names, the header is skipped and the columns are taken in order, as sklearn
  does with a DataFrame (it warns). Without a header the columns are in the model's order.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import numpy as np

from tinycodegen.errors import DataError

NUMBER = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|nan|inf|infinity)",
                    re.IGNORECASE)


def is_number(cell: str) -> bool:
    return NUMBER.fullmatch(cell) is not None


def read_csv(path: Path, model: Any, text_columns: set[int]) -> Any:
    """What sklearn's predict takes for the rows of ``path`` (float64 values rounded through
    float32, as the C gets them): a DataFrame when the model has feature names, else an array.
    ``text_columns``: model column indices whose cells are category text."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            lines = [(i, [c.strip() for c in row]) for i, row in enumerate(csv.reader(fh), 1)
                     if row and any(c.strip() for c in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"data {str(path)!r} cannot be read: {exc}") from None
    if not lines:
        raise DataError(f"data {str(path)!r}: no rows")
    where = f"data {str(path)!r}"
    names = getattr(model, "feature_names_in_", None)
    names = None if names is None else [str(n) for n in names]
    header: list[str] | None = None
    if not any(is_number(c) for c in lines[0][1]):
        header = lines[0][1]
        lines = lines[1:]
        if not lines:
            raise DataError(f"{where}: a header row and no data")
    width = len(header) if header is not None else len(lines[0][1])
    order = list(range(width))
    if header is not None and names is not None:
        order = _match_header(where, header, names)
    elif names is not None and width != len(names):
        raise DataError(f"{where}: {width} columns; the model takes {len(names)} features")
    label = header if header is not None else [str(j + 1) for j in range(width)]
    cols: list[list[Any]] = [[] for _ in range(width)]
    for lineno, row in lines:
        if len(row) != width:
            raise DataError(f"{where}: row {lineno} has {len(row)} cells, not {width}")
        for j, cell in enumerate(row):
            cols[j].append(_cell(where, lineno, j, label, cell, order[j] in text_columns))
    values = [np.asarray(cols[order.index(k)], dtype=object) if k in text_columns else
              np.asarray(cols[order.index(k)], np.float64).astype(np.float32).astype(np.float64)
              for k in range(width)]
    if names is not None and len(names) == width:
        import pandas as pd

        return pd.DataFrame(dict(zip(names, values, strict=True)))
    if all(v.dtype != object for v in values):
        return np.column_stack(values)
    return np.column_stack(values).astype(object)


def _cell(where: str, lineno: int, j: int, label: list[str], cell: str, text: bool) -> Any:
    column = f"column {j + 1}" + (f" ({label[j]!r})" if label[j] != str(j + 1) else "")
    if cell == "":
        raise DataError(f"{where}: row {lineno}, {column} is empty (write nan for a missing "
                        f"value)")
    if text:
        return cell
    if not is_number(cell):
        raise DataError(f"{where}: row {lineno}, {column}: {cell[:40]!r} is not a number")
    return float(cell)


def _match_header(where: str, header: list[str], names: list[str]) -> list[int]:
    """For each CSV column, the index of its name in the model's feature names."""
    seen: set[str] = set()
    for h in header:
        if h in seen:
            raise DataError(f"{where}: column {h!r} appears twice in the header")
        seen.add(h)
    unknown = [h for h in header if h not in names]
    missing = [n for n in names if n not in seen]
    if unknown or missing:
        parts = ([f"unknown column(s) {', '.join(map(repr, unknown[:5]))}"] if unknown else []) \
            + ([f"missing feature(s) {', '.join(map(repr, missing[:5]))}"] if missing else [])
        raise DataError(f"{where}: the header does not match the model's feature names: "
                        f"{'; '.join(parts)}")
    return [names.index(h) for h in header]
