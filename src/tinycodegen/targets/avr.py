"""AVR (ATmega328P, the Arduino Uno) tools: avr-gcc, and simavr as a cycle-exact runner.

``run_simavr(firmware)`` runs an ELF (or .hex) in simavr (Debian package ``simavr``) and returns
the lines the firmware printed on USART0. Use it for any AVR firmware, an Arduino sketch
included: simavr prints each UART line as it is completed, and exits when the firmware sleeps
with interrupts disabled (``cli(); sleep_cpu();``). A firmware that never stops (an Arduino
``loop()``) is stopped at ``timeout`` seconds, or as soon as a line contains ``until``::

    from tinycodegen.targets.avr import run_simavr
    lines = run_simavr("sketch.elf", until="DONE", timeout=60)

The measurement harness for ``measure(..., target="atmega328p")`` is in
:mod:`tinycodegen.targets.avr_measure`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from functools import lru_cache
from pathlib import Path

from tinycodegen.errors import ToolMissingError
from tinycodegen.targets.toolchain import TargetError

AVR_GCC = "avr-gcc"
SIMAVR = "simavr"
AVR_CFLAGS = ("-Os", "-std=c99", "-ffunction-sections", "-fdata-sections", "-Wall")
AVR_LDFLAGS = ("-Wl,--gc-sections",)
# Sizing links get regions larger than any AVR, so a model that does not fit still links and
# its true size is known (the fit is judged against the part's memory afterwards).
AVR_SIZING = ("-Wl,--defsym=__TEXT_REGION_LENGTH__=8388608",
              "-Wl,--defsym=__DATA_REGION_LENGTH__=65280")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def find_avr_gcc() -> str:
    path = shutil.which(AVR_GCC)
    if path is None:
        raise ToolMissingError(f"{AVR_GCC} not found: install the Debian packages gcc-avr and "
                               "avr-libc")
    if not _has_libc(path):
        raise ToolMissingError("avr-libc not found: install the Debian package avr-libc")
    return path


@lru_cache(maxsize=4)
def _has_libc(gcc: str) -> bool:
    out = subprocess.run([gcc, "-mmcu=atmega328p", "-print-file-name=libc.a"],
                         capture_output=True, text=True, check=False).stdout.strip()
    return bool(out) and Path(out).is_absolute() and Path(out).exists()


def find_simavr() -> str:
    path = shutil.which(SIMAVR)
    if path is None:
        raise ToolMissingError(f"{SIMAVR} not found: install the Debian package simavr")
    return path


def uart_lines(text: str) -> list[str]:
    """The UART lines in simavr's output: colour codes removed, and the '.' simavr prints in
    place of the line's newline (it shows every control character as '.')."""
    lines = []
    for raw in _ANSI.sub("", text).splitlines():
        if raw.endswith("."):
            raw = raw[:-1]
        if raw:
            lines.append(raw)
    return lines


def run_simavr(
    firmware: str | Path,
    *,
    mcu: str = "atmega328p",
    freq: int = 16_000_000,
    timeout: float = 600.0,
    until: str | None = None,
) -> list[str]:
    """Run ``firmware`` (ELF or .hex) in simavr; return the lines it printed on USART0.

    The run ends when the firmware sleeps with interrupts disabled, when a printed line
    contains ``until`` (simavr is then stopped, and that line is the last one returned), or
    after ``timeout`` seconds: a firmware that had to be stopped by the timeout raises
    :class:`TargetError` unless ``until`` is None and it printed something (an endless
    sketch). simavr's own messages (loading, sleeping) are not returned.
    """
    simavr = find_simavr()
    cmd = [simavr, "-m", mcu, "-f", str(int(freq)), str(firmware)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            errors="replace")
    fired = threading.Event()

    def stop() -> None:
        fired.set()
        proc.kill()

    timer = threading.Timer(timeout, stop)
    timer.start()
    lines: list[str] = []
    found = False
    try:
        assert proc.stderr is not None
        for raw in proc.stderr:
            for line in uart_lines(raw):
                lines.append(line)
                found = until is not None and until in line
                if found:
                    break
            if found:
                proc.kill()
                break
    finally:
        timer.cancel()
        proc.wait()
    timed_out = fired.is_set()
    if found:
        return lines
    if timed_out and (until is not None or not lines):
        raise TargetError(f"simavr: {Path(firmware).name} did not finish within {timeout:g} s")
    if proc.returncode not in (0, None) and not timed_out:
        raise TargetError(f"simavr failed on {Path(firmware).name} (exit {proc.returncode})")
    return lines


__all__ = ["AVR_CFLAGS", "AVR_LDFLAGS", "AVR_SIZING", "find_avr_gcc", "find_simavr",
           "run_simavr", "uart_lines"]
