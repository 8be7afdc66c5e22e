"""Run an AVR program in simavr and return what it printed on the UART.

``run_simavr(elf)`` runs ``simavr -m atmega328p -f 16000000 ELF`` until the program sleeps with
interrupts off (``cli(); sleep_cpu();``: simavr then quits) and returns the UART output as
lines. simavr echoes UART bytes on its standard error, coloured, with every byte that is not
printable (the line's own '\\n', and '\\r' from Serial.println) shown as '.': those trailing
dots are removed, so a printed line must not end in '.' itself.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tinycodegen.errors import BuildError, ToolMissingError

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_TRAILER = re.compile(r"\.{1,2}\Z")
_LOADER = re.compile(r"^Loaded \d+ \.\w+")


def run_simavr(elf: Path, mcu: str = "atmega328p", freq: int = 16_000_000,
               timeout: float = 120.0) -> list[str]:
    """UART lines of the program (simavr's own "Loaded ..." lines removed)."""
    exe = shutil.which("simavr")
    if exe is None:
        raise ToolMissingError("simavr not found: install the Debian package simavr")
    cmd = [exe, "-m", mcu, "-f", str(freq), str(elf)]
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                             errors="replace")
    except subprocess.TimeoutExpired:
        raise BuildError(f"simavr: {elf} still running after {timeout:.0f} s") from None
    text = _ANSI.sub("", run.stderr)
    if run.returncode != 0:
        raise BuildError(f"simavr exited with status {run.returncode}: {text.strip()[-300:]}")
    lines = [_TRAILER.sub("", line) for line in text.splitlines()]
    return [line for line in lines if line and not _LOADER.match(line)]
