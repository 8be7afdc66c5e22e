"""``python -m tinycodegen <command>``: compile, check, and the commands other modules add."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from tinycodegen.errors import TinycodegenError, one_line

COMMAND_MODULES = ("tinycodegen.commands.compile_cmd", "tinycodegen.commands.check_cmd",
                   "tinycodegen.commands.report_cmd", "tinycodegen.commands.study_cmd",
                   "tinycodegen.commands.search_cmd")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tinycodegen",
        description="Compile scikit-learn classifiers into exact, dependency-free C99.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for mod_name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError as exc:
            if exc.name == mod_name:
                continue  # command not part of this build
            raise
        mod.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except TinycodegenError as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
