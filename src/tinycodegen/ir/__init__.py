"""Typed, frozen intermediate representations, one per model family."""

from tinycodegen.ir.base import ModelIR, ModelMeta, Reference, rejected_rows
from tinycodegen.ir.trees import TreeEnsembleIR

__all__ = ["ModelIR", "ModelMeta", "Reference", "TreeEnsembleIR", "rejected_rows"]
