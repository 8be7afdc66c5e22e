"""Drop-in packages for firmware projects: ``compile --format plain|cmake|arduino|...``.

Each format is one row of FORMATS: a module whose ``files(info)`` returns the package's files
(relative path -> text), model sources included. Nothing reaches a manifest unvalidated: the
name is a validated C identifier (letters, digits, _), every other user string (estimator name,
class labels) goes through the escaper of that file's syntax (``text``: json_string,
yaml_string, properties_text).
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tinycodegen.core.csource import CSource, validate_c_name
from tinycodegen.errors import TinycodegenError


@dataclass(frozen=True)
class Format:
    name: str
    module: str  # tinycodegen.packaging.<module>, or "" for the plain folder
    summary: str


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("plain", "", "NAME.h, NAME.c and the tcg_*.h runtime headers in one folder"),
    Format("cmake", "cmake", "CMakeLists.txt (static library NAME) + arm-none-eabi toolchain"),
    Format("arduino", "arduino", "Arduino library (spec 1.5) with a Serial example sketch"),
    Format("platformio", "platformio", "PlatformIO library (library.json)"),
    Format("zephyr", "zephyr", "Zephyr module (zephyr/module.yml, CMakeLists.txt, Kconfig)"),
    Format("espidf", "espidf", "ESP-IDF component (idf_component.yml, CMakeLists.txt)"),
)}

PACKAGE_VERSION = "1.0.0"
URL = "https://pypi.org/project/tinycodegen/"
SRC = "src"  # where every format but plain puts the model's C


@dataclass(frozen=True)
class PackageInfo:
    """What a package says about its model; ``name`` is validated, the rest is escaped on use."""

    source: CSource
    estimator: str
    labels: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def c_sources(self) -> list[str]:
        return sorted(f for f in self.source.files if f.endswith(".c"))

    def description(self) -> str:
        """One sentence (raw: escape it for the file it goes into)."""
        s = self.source
        labels = ", ".join(self.labels[:8]) + (", ..." if len(self.labels) > 8 else "")
        return (f"{self.estimator} compiled to C99 by tinycodegen ({s.n_features} float "
                f"features, {s.n_classes} classes: {labels}; guarantee: {s.guarantee})")

    def model_files(self, prefix: str = SRC) -> dict[str, str]:
        return {f"{prefix}/{f}": text for f, text in self.source.files.items()}


def package_info(source: CSource, model: Any) -> PackageInfo:
    validate_c_name(source.name)
    labels = tuple(str(c) for c in getattr(model, "classes_", ()))
    return PackageInfo(source=source, estimator=type(model).__name__, labels=labels)


def check_format(fmt: str) -> Format:
    if fmt not in FORMATS:
        raise TinycodegenError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    return FORMATS[fmt]


def package_files(info: PackageInfo, fmt: str) -> dict[str, str]:
    """Every file of the package (relative path -> text)."""
    spec = check_format(fmt)
    if not spec.module:
        return dict(info.source.files)
    mod = importlib.import_module(f"tinycodegen.packaging.{spec.module}")
    return mod.files(info)


def write_package(source: CSource, model: Any, outdir: Path, fmt: str) -> list[Path]:
    """Write the package into outdir, every file or none (api.write_files' staging)."""
    from tinycodegen.api import write_files  # api imports this package lazily

    files = package_files(package_info(source, model), fmt)
    return write_files(replace(source, files=files), Path(outdir))


# --- escapers: one per manifest syntax --------------------------------------------------------

def json_string(s: str) -> str:
    """A JSON string literal (ASCII only)."""
    return json.dumps(str(s), ensure_ascii=True)


def yaml_string(s: str) -> str:
    """A YAML double-quoted scalar: printable ASCII kept, everything else escaped."""
    out = []
    for ch in str(s):
        o = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 32 <= o < 127:
            out.append(ch)
        elif o < 0x100:
            out.append(f"\\x{o:02x}")
        elif o < 0x10000:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    return '"' + "".join(out) + '"'


def properties_text(s: str, limit: int = 300) -> str:
    """One line of a .properties value (no escapes exist there): printable ASCII only."""
    text = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in str(s)).strip()
    return text[:limit]
