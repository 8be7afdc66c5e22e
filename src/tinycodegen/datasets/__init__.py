"""Benchmark data sets (checksummed loaders; the data itself is never part of the package)."""

from __future__ import annotations

from tinycodegen.datasets.nsl_kdd import (
    ATTACK_CATEGORY,
    CATEGORICAL,
    CATEGORICAL_INDEX,
    CLASSES_5,
    CLASSES_BINARY,
    FEATURE_NAMES,
    SPLITS,
    NslKdd,
    download,
    find_data_dir,
    load,
    resolve_spec,
)

__all__ = [
    "ATTACK_CATEGORY",
    "CATEGORICAL",
    "CATEGORICAL_INDEX",
    "CLASSES_5",
    "CLASSES_BINARY",
    "FEATURE_NAMES",
    "SPLITS",
    "NslKdd",
    "download",
    "find_data_dir",
    "load",
    "resolve_spec",
]
