"""Targets, memory maps and the external tools the measurement layer needs.

Every missing tool is reported as a :class:`~tinycodegen.errors.ToolMissingError`
that names the Debian or PyPI package to install.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from tinycodegen.errors import TinycodegenError, ToolMissingError

TARGETS = ("cortex-m4f", "cortex-m0plus", "atmega328p", "host")
CROSS_GCC = "arm-none-eabi-gcc"
COMMON_CFLAGS = ("-Os", "-ffunction-sections", "-fdata-sections", "-std=c99")
FLASH_ORIGIN = 0x00000000
RAM_ORIGIN = 0x20000000


class TargetError(TinycodegenError):
    """A measurement that cannot be made (incomplete C folder, emulation fault)."""


@dataclass(frozen=True)
class MemoryMap:
    """FLASH at 0x00000000 and RAM at 0x20000000 (bytes), plus the stack reserve."""

    name: str
    flash: int
    ram: int
    stack: int = 0

    def describe(self) -> str:
        return f"{self.name} ({self.flash // 1024}K flash / {self.ram // 1024}K RAM)"


@dataclass(frozen=True)
class TargetSpec:
    """One microcontroller target: compiler flags, core for the cycle model, memory."""

    name: str
    cpu_flags: tuple[str, ...]
    core: str  # key of tinycodegen.targets.cycles tables ("avr": measured in simavr)
    uc_cpu: str  # name of the unicorn CPU model constant ("" for AVR)
    realistic: MemoryMap


# Generic "large" map used for measuring (the stack sits at the bottom of RAM,
# so an overflow faults in the emulator instead of corrupting .data/.bss).
LARGE_MAP = MemoryMap("large", 1 << 20, 256 << 10, 32 << 10)
HUGE_MAP = MemoryMap("huge", 256 << 20, 64 << 20, 64 << 10)

TARGET_SPECS: dict[str, TargetSpec] = {
    "cortex-m4f": TargetSpec(
        "cortex-m4f",
        ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"),
        "m4",
        "UC_CPU_ARM_CORTEX_M4",
        MemoryMap("cortex-m4f", 512 << 10, 128 << 10),
    ),
    "cortex-m0plus": TargetSpec(
        "cortex-m0plus",
        ("-mcpu=cortex-m0plus", "-mthumb", "-mfloat-abi=soft"),
        "m0plus",
        "UC_CPU_ARM_CORTEX_M0",
        MemoryMap("cortex-m0plus", 256 << 10, 32 << 10),
    ),
    # The Arduino Uno: avr-gcc + avr-libc, run in simavr (tinycodegen.targets.avr_measure).
    "atmega328p": TargetSpec(
        "atmega328p", ("-mmcu=atmega328p",), "avr", "", MemoryMap("atmega328p", 32 << 10, 2 << 10)
    ),
}


def check_target(target: str) -> None:
    if target not in TARGETS:
        raise TargetError(f"unknown target {target!r}: choose one of {', '.join(TARGETS)}")


def harness_text(name: str) -> str:
    """Text of a file shipped in ``tinycodegen/targets/harness``."""
    return resources.files("tinycodegen.targets").joinpath("harness", name).read_text()


def harness_path(name: str) -> Path:
    return Path(str(resources.files("tinycodegen.targets").joinpath("harness", name)))


def find_cross_gcc() -> str:
    path = shutil.which(CROSS_GCC)
    if path is None:
        raise ToolMissingError(
            f"{CROSS_GCC} not found: install the Debian package gcc-arm-none-eabi "
            "(plus picolibc-arm-none-eabi or libnewlib-arm-none-eabi for the C library)"
        )
    return path


@lru_cache(maxsize=8)
def cross_libc(gcc: str) -> tuple[str, tuple[str, ...]]:
    """("picolibc" | "newlib-nano", link/compile flags) for the installed C library."""
    for specs, label, extra in (
        ("picolibc.specs", "picolibc", ("-DTCG_LIBC_PICOLIBC",)),
        ("nano.specs", "newlib-nano", ()),
    ):
        out = subprocess.run(
            [gcc, f"-print-file-name={specs}"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if out and os.path.isabs(out) and os.path.exists(out):
            return label, (f"-specs={specs}", *extra)
    raise ToolMissingError(
        "no C library for arm-none-eabi-gcc: install the Debian package "
        "picolibc-arm-none-eabi (or libnewlib-arm-none-eabi)"
    )


@lru_cache(maxsize=8)
def tool_version(tool: str) -> str:
    out = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False)
    return (out.stdout or out.stderr).splitlines()[0] if (out.stdout or out.stderr) else tool


def find_host_cc() -> str:
    for cc in (os.environ.get("CC", ""), "gcc", "cc", "clang"):
        if cc and shutil.which(cc):
            return shutil.which(cc) or cc
    raise ToolMissingError("no host C compiler: install the Debian package gcc")


def find_valgrind() -> str:
    path = shutil.which("valgrind")
    if path is None:
        raise ToolMissingError("valgrind not found: install the Debian package valgrind")
    return path


def require_emulator() -> None:
    """Import-check unicorn, capstone and pyelftools (the emulation stack)."""
    for module, package in (
        ("unicorn", "unicorn"),
        ("capstone", "capstone"),
        ("elftools", "pyelftools"),
    ):
        try:
            __import__(module)
        except ImportError as exc:
            raise ToolMissingError(
                f"Python package {package} is missing: pip install {package} "
                "(or pip install 'tinycodegen[targets]')"
            ) from exc


def model_sources(c_dir: Path, name: str) -> tuple[Path, Path, list[Path]]:
    """(NAME.c, NAME.h, other files: runtime headers and further .c files of the model, e.g.
    a composite model's members) of a generated model folder."""
    c_file, h_file = c_dir / f"{name}.c", c_dir / f"{name}.h"
    for f in (c_file, h_file):
        if not f.is_file():
            raise TargetError(f"{f} not found: expected a generated model {name}.h/{name}.c")
    others = sorted(p for p in (*c_dir.glob("*.h"), *c_dir.glob("*.c"))
                    if p not in (c_file, h_file))
    return c_file, h_file, others


def content_key(parts: list[bytes | str]) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()[:20]


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tinycodegen" / "targets"


def run_tool(cmd: list[str], what: str, cwd: Path | None = None) -> str:
    """Run a build command; a failure is a BuildError carrying the compiler output."""
    from tinycodegen.errors import BuildError

    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, check=False)
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        tail = lines[-25:]
        # the first errors too, when warnings after them push them out of the tail (a model's
        # #error stops the build at its top, then the compiler goes on warning)
        first = [ln for ln in lines[:-25] if "error:" in ln][:3]
        shown = "\n".join(first + (["..."] if first else []) + tail)
        raise BuildError(f"{what} failed ({Path(cmd[0]).name} exit {proc.returncode}):\n{shown}")
    return proc.stdout
