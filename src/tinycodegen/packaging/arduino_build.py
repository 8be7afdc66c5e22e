"""Build an Arduino sketch offline with Debian's ``arduino-builder`` (tests and examples).

Debian's packages (arduino, arduino-core-avr, arduino-builder, gcc-avr, avr-libc) install the
AVR core under /usr/share/arduino/hardware (``$TCG_ARDUINO_DIR`` overrides /usr/share/arduino).
Debian's core needs ``-DDECIMAL_DIG=9`` to build its own WString.cpp with avr-libc.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tinycodegen.errors import BuildError, ToolMissingError

UNO = "arduino:avr:uno"
CORE_FIX = "compiler.cpp.extra_flags=-DDECIMAL_DIG=9"


def arduino_dir() -> Path:
    return Path(os.environ.get("TCG_ARDUINO_DIR", "/usr/share/arduino"))


def missing_tools() -> list[str]:
    """What is missing to build for an Uno here (empty when everything is installed)."""
    out = [t for t in ("arduino-builder", "avr-gcc") if shutil.which(t) is None]
    if not (arduino_dir() / "hardware" / "arduino" / "avr" / "cores").is_dir():
        out.append(f"the AVR core in {arduino_dir()}/hardware (Debian: arduino-core-avr)")
    return out


def build_sketch(sketch: Path, build_dir: Path, libraries: tuple[Path, ...] = (),
                 fqbn: str = UNO, timeout: float = 600.0) -> Path:
    """Compile sketch (its .ino) for fqbn; returns the .elf. libraries: folders of libraries."""
    if missing := missing_tools():
        raise ToolMissingError("cannot build Arduino sketches: missing " + ", ".join(missing)
                               + " (Debian: arduino arduino-builder arduino-core-avr gcc-avr "
                               "avr-libc)")
    root = arduino_dir()
    build_dir.mkdir(parents=True, exist_ok=True)
    cmd = ["arduino-builder", "-compile", "-hardware", str(root / "hardware"),
           "-tools", str(root / "hardware" / "tools"),
           "-tools", str(Path(shutil.which("arduino-builder") or "").parent),
           "-fqbn", fqbn, "-build-path", str(build_dir), f"-prefs={CORE_FIX}",
           "-warnings", "all"]
    for lib in libraries:
        cmd += ["-libraries", str(lib)]
    ino = sketch / f"{sketch.name}.ino" if sketch.is_dir() else sketch
    run = subprocess.run(cmd + [str(ino)], capture_output=True, text=True, timeout=timeout)
    elf = build_dir / f"{ino.name}.elf"
    if run.returncode != 0 or not elf.is_file():
        raise BuildError(f"arduino-builder failed for {ino}:\n{(run.stdout + run.stderr)[-3000:]}")
    return elf
