"""Host measurements used by benchmarks: object size and ns per inference of generated C."""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from importlib import resources
from pathlib import Path

import numpy as np

from tinycodegen.build import run_compiler, write_sources
from tinycodegen.core.csource import CSource

SIZE_SECTIONS = re.compile(r"^\.(text|data|rodata)")


def object_size(source: CSource, *, cc: str = "gcc", opt: str = "-Os") -> dict[str, float]:
    """text+data+rodata bytes of ``cc -Os -c`` over the model's .c files, and compile seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_sources(source, folder)
        total = 0
        t0 = time.perf_counter()
        for c_file in sorted(f for f in source.files if f.endswith(".c")):
            obj = folder / (c_file[:-2] + ".o")
            run_compiler([cc, "-std=c99", opt, "-w", "-c", str(folder / c_file), "-o", str(obj)],
                         c_file)
            total += sections_bytes(obj)
        seconds = time.perf_counter() - t0
    return {"bytes": total, "compile_s": seconds}


def sections_bytes(obj: Path) -> int:
    """Sum of .text*, .data*, .rodata* sections from ``size -A``."""
    out = subprocess.run(["size", "-A", str(obj)], capture_output=True, text=True, check=True)
    total = 0
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and SIZE_SECTIONS.match(parts[0]) and parts[1].isdigit():
            total += int(parts[1])
    return total


def ns_per_inference(source: CSource, X: np.ndarray, *, passes: int = 5, cc: str = "gcc",
                     opt: str = "-O2") -> tuple[float, np.ndarray]:
    """Best-of-``passes`` ns per predict() over all rows from a C loop; also the predictions."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    main = resources.files("tinycodegen.c_runtime").joinpath("bench_main.c.in").read_text()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_sources(source, folder)
        (folder / "bench_main.c").write_text(
            main.replace("@HEADER@", source.h_file).replace("@NAME@", source.name)
        )
        (folder / "rows.bin").write_bytes(X.tobytes())
        exe = folder / "bench"
        c_files = [str(folder / f) for f in sorted(source.files) if f.endswith(".c")]
        run_compiler([cc, "-std=c99", opt, "-w", "-ffp-contract=off", "-I", str(folder),
                      str(folder / "bench_main.c"), *c_files, "-o", str(exe), "-lm"], "bench")
        proc = subprocess.run([str(exe), str(folder / "rows.bin"), str(X.shape[1]),
                               str(passes), str(folder / "pred.bin")],
                              capture_output=True, text=True, check=True)
        preds = np.frombuffer((folder / "pred.bin").read_bytes(), dtype=np.int32).copy()
    return float(proc.stdout.strip()), preds
