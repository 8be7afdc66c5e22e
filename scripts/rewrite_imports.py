"""Rewrite imports of the old module layout (loaders/, ir/, passes/, emit/) to the family layout.

Reads ``scripts/house_moves.txt`` (old module -> new module; ``pkg:NAME`` rows for names the old
packages exported). ``--move`` also ``git mv``s the modules (run once, by the reorganisation
itself); without it, only the given Python files are rewritten (for branches written against
the old layout: ``python scripts/rewrite_imports.py $(git ls-files '*.py')``).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OLD_PACKAGES = ("ir", "emit", "loaders", "passes")


def moves() -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    modules: dict[str, str] = {}
    names: dict[tuple[str, str], str] = {}
    for line in (ROOT / "scripts" / "house_moves.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        old, new = line.split()
        if ":" in old:
            pkg, name = old.split(":")
            names[(pkg, name)] = new
        else:
            modules[old] = new
    return modules, names


def rewrite(text: str, modules: dict[str, str], names: dict[tuple[str, str], str]) -> str:
    def from_pkg(m: re.Match[str]) -> str:
        indent, pkg, items, tail = m.group(1), m.group(2), m.group(3), m.group(4) or ""
        out: dict[str, list[str]] = {}
        for item in (i.strip() for i in items.split(",")):
            name, _, alias = item.partition(" as ")
            alias = alias.strip()
            new = modules.get(f"{pkg}.{name}")
            if new is not None:  # a submodule
                parent, leaf = new.rsplit(".", 1)
                out.setdefault(parent, []).append(f"{leaf} as {alias or name}"
                                                  if (alias or name) != leaf else leaf)
            elif (pkg, name) in names:
                out.setdefault(names[(pkg, name)], []).append(item)
            else:
                raise SystemExit(f"no new home for tinycodegen.{pkg}:{name}")
        return "\n".join(f"{indent}from tinycodegen.{mod} import {', '.join(sorted(its))}"
                         f"{tail if i == 0 else ''}" for i, (mod, its) in enumerate(out.items()))

    pat = re.compile(rf"^([ \t]*)from tinycodegen\.({'|'.join(OLD_PACKAGES)}) import "
                     r"([^(\n#]+?)([ \t]*#[^\n]*)?$", re.MULTILINE)
    text = pat.sub(from_pkg, text)
    for old in sorted(modules, key=len, reverse=True):
        text = re.sub(rf"\btinycodegen\.{re.escape(old)}(?![\w])", f"tinycodegen.{modules[old]}",
                      text)
    return text


def main(argv: list[str]) -> None:
    modules, names = moves()
    files = [Path(a) for a in argv if a != "--move"]
    if "--move" in argv:
        src = ROOT / "src" / "tinycodegen"
        for old, new in modules.items():
            a = src / (old.replace(".", "/") + ".py")
            b = src / (new.replace(".", "/") + ".py")
            if a.exists() and not b.exists():
                b.parent.mkdir(parents=True, exist_ok=True)
                subprocess.run(["git", "mv", str(a), str(b)], check=True, cwd=ROOT)
    for f in files:
        text = f.read_text()
        new = rewrite(text, modules, names)
        if new != text:
            f.write_text(new)


if __name__ == "__main__":
    main(sys.argv[1:])
