"""Bins for quantized boosted trees: every split rule of ``BoostedTreesIR`` as a test on the
per-feature bin ``bin_f(x) = #{t in table_f : t < x}`` (exact for every float32 input).

Feature f's table holds the float32 thresholds of its numeric splits, plus:

* zero-as-missing (LightGBM missing_type Zero), when a split on f has it: ``z = the largest
  float32 <= ZERO_THRESHOLD`` (the IR's kZeroThreshold, ``float(1e-35f)``, so z = 1e-35f) and
  ``z_lo = the largest float32 < -z``. ``|double(x)| <= ZERO_THRESHOLD`` holds
  exactly when ``-z <= x <= z``, i.e. when ``zlo_f < bin_f(x) <= zhi_f`` (``zlo_f``, ``zhi_f``
  the indices of ``z_lo`` and ``z`` in the table).
* categories, when a categorical split uses f: boundaries between which the category a value
  stands for is constant. "hgb" (x is category c only when x == c, 0 <= c < W = 32 * n_words):
  ``pred(c)`` and ``c`` for every c < W (pred: the float32 just below), so bin intervals
  ``(pred(c), c]`` hold exactly c (-0.0 included) and no other interval holds a category.
  "lightgbm" (c = trunc(double(x))): ``-1`` and ``pred(c)`` for c = 1 .. W (W: one past the
  highest category in any set), so ``(-1, pred(1)]`` holds category 0 and ``(pred(c),
  pred(c + 1)]`` category c; values <= -1, >= W or NaN have none. ``catmap`` gives the category
  of every (feature, bin) from one representative per bin interval (its upper end; +inf for the
  last), -1 for none.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinycodegen.errors import UnsupportedModelError
from tinycodegen.families.boosted.ir import ZERO_THRESHOLD

MAX_CATEGORIES = 1 << 15


def _pred(v: np.ndarray) -> np.ndarray:
    return np.nextafter(np.asarray(v, np.float32), np.float32(-np.inf))


def zero_band() -> tuple[np.float32, np.float32]:
    """(z_lo, z): |double(x)| <= ZERO_THRESHOLD exactly when z_lo < x <= z (float32 x)."""
    z = np.float32(ZERO_THRESHOLD)
    if float(z) > ZERO_THRESHOLD:
        z = _pred(z)
    return _pred(-z), z


def category_width(src: Any) -> int:
    """W: categories 0 .. W - 1 have a bit in the table (see the module doc)."""
    bits = np.asarray(src.cat_bits, dtype=np.uint32)
    if src.cat_rule == "hgb":
        width = 32 * bits.shape[1]
    else:
        used = np.flatnonzero(np.unpackbits(bits.view(np.uint8), bitorder="little")
                              .reshape(len(bits), -1).any(axis=0))
        width = int(used.max()) + 1 if len(used) else 1
    if width > MAX_CATEGORIES:
        raise UnsupportedModelError(
            f"--quantize: {src.meta.estimator} has categorical splits over {width} categories; "
            f"quantized boosted trees take at most {MAX_CATEGORIES}")
    return width


def category_bounds(rule: str, width: int) -> np.ndarray:
    c = np.arange(width, dtype=np.float32)
    if rule == "hgb":
        return np.concatenate([_pred(c), c])
    upper = np.arange(1, width + 1, dtype=np.float32)
    return np.concatenate([[np.float32(-1.0)], _pred(upper)])


def category_of(x: np.ndarray, rule: str, width: int) -> np.ndarray:
    """Category each float32 value stands for (-1: none), as ``BoostedTreesIR`` reads it."""
    v = np.asarray(x, dtype=np.float32).astype(np.float64)
    with np.errstate(invalid="ignore"):
        if rule == "hgb":
            ok = np.isfinite(v) & (v >= 0) & (v < width) & (np.floor(v) == v)
            c = np.where(ok, v, -1.0)
        else:
            inside = np.isfinite(v) & (np.abs(v) < 2.0**31)
            c = np.where(inside, np.trunc(np.where(inside, v, 0.0)), -1.0)
            c = np.where((c >= 0) & (c < width), c, -1.0)
    return c.astype(np.int64)


def bin_splits(src: Any) -> dict[str, Any]:
    """Tables and per-split indices: thr_offset, thresholds, bin (j), zlo, zhi, catmap."""
    nf = src.meta.n_features
    thr = np.asarray(src.threshold, dtype=np.float32) + np.float32(0.0)  # -0.0 -> +0.0
    is_cat = np.asarray(src.cat_set) >= 0
    mz = np.asarray(src.missing_zero, bool) & ~is_cat
    width = category_width(src) if is_cat.any() else 0
    z_lo, z = zero_band()
    tables, j = [], np.zeros(len(thr), dtype=np.int64)
    zlo = np.full(nf, -1, np.int64)
    zhi = np.full(nf, -1, np.int64)
    cat_features = np.zeros(nf, bool)
    for f in range(nf):
        at = np.flatnonzero((src.feature == f) & ~is_cat)
        extra = [thr[at]]
        if mz[src.feature == f].any():
            extra.append(np.array([z_lo, z], np.float32))
        if is_cat[src.feature == f].any():
            cat_features[f] = True
            extra.append(category_bounds(src.cat_rule, width) + np.float32(0.0))
        table = np.unique(np.concatenate(extra).astype(np.float32))
        if len(table) >= 65535:
            raise UnsupportedModelError(
                f"--quantize: feature {f} needs {len(table)} distinct split values: more than "
                "16-bit bins hold")
        tables.append(table)
        j[at] = np.searchsorted(table, thr[at])
        if mz[src.feature == f].any():
            zlo[f], zhi[f] = np.searchsorted(table, [z_lo, z])
    counts = np.asarray([len(t) for t in tables], dtype=np.int64)
    offset = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    catmap = np.full(int(offset[-1]) + nf, -1, np.int64)  # bin b of f at offset[f] + f + b
    for f in np.flatnonzero(cat_features):
        rep = np.concatenate([tables[f], [np.float32(np.inf)]])
        catmap[offset[f] + f : offset[f + 1] + f + 1] = category_of(rep, src.cat_rule, width)
    flat = np.concatenate(tables) if tables else np.zeros(0, np.float32)
    return dict(thr_offset=offset, thresholds=flat.astype(np.float32), bin=j.astype(np.int32),
                zlo=zlo, zhi=zhi, missing_zero=mz, catmap=catmap)
