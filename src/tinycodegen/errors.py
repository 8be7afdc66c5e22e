"""Errors that tinycodegen reports to users as one clear line (no traceback)."""

from __future__ import annotations


def one_line(text: object) -> str:
    """``text`` as one printable line: line breaks and other control characters (from model
    strings quoted in a message: step names, labels) escaped, never sent to the terminal."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(text))


class TinycodegenError(Exception):
    """Base class: the CLI prints ``error: <message>`` and exits with status 2."""


class UnsupportedModelError(TinycodegenError):
    """An estimator (or a step inside a pipeline / hybrid) that no loader handles."""


class ModelFileError(TinycodegenError):
    """A model file that is missing, corrupt, or not a scikit-learn model."""


class InvalidNameError(TinycodegenError):
    """A ``--name`` that is not a valid C identifier or is a reserved word."""


class DataError(TinycodegenError):
    """Data that cannot be used: wrong feature count, unreadable file, bad checksum."""


class FeatureNamesError(DataError, ValueError):
    """DataFrame columns that do not match the model's feature names (sklearn's ValueError)."""


class BuildError(TinycodegenError):
    """The C compiler rejected generated code (this is a tinycodegen bug)."""


class ToolMissingError(TinycodegenError):
    """An external tool (cross compiler, emulator) is not installed."""


class BlasOrderWarning(UserWarning):
    """The host BLAS sums in an order tinycodegen does not replay: C equal up to its band."""
