"""Per-model flash, RAM, instructions, cycles and parity across backends and targets."""

from tinycodegen.report.collect import ReportRow, collect
from tinycodegen.report.render import write_report

__all__ = ["ReportRow", "collect", "write_report"]
