"""The NSL-KDD study: ten models (five families, full and tiny), compiled, checked, measured."""

from tinycodegen.study.run import run_study

__all__ = ["run_study"]
