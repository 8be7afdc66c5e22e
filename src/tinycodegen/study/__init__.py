"""The NSL-KDD study: sixteen models (ten supervised: five families, full and tiny; six outlier
detectors trained on normal traffic only), compiled, checked, measured."""

from tinycodegen.study.run import run_study

__all__ = ["run_study"]
