"""Host measurements: predictions, callgrind instruction counts, ns per inference.

A small generated C program (``harness/host_bench.c.in``) is compiled with the
host compiler at ``-O2`` and linked with ``-Wl,-z,now`` (so lazy PLT binding of
libm calls is not counted inside the model).  Instruction counts come from one
``valgrind --tool=callgrind`` run that counts only inside ``NAME_predict``
(inclusive of what it calls) and dumps once per call, so every row's count is
exact; above ``MAX_ROWS_PER_CALL`` rows a stratified sample is counted.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from tinycodegen.targets.toolchain import (
    TargetError,
    content_key,
    find_host_cc,
    find_valgrind,
    harness_text,
    model_sources,
    run_tool,
    tool_version,
)

HOST_CFLAGS = ("-O2", "-std=c99")
HOST_LDFLAGS = ("-Wl,-z,now", "-lm")
MAX_ROWS_PER_CALL = 50_000  # callgrind parts (about 1 KB each) beyond this: sample
_TOTAL = re.compile(r"^totals:\s+(\d+)", re.MULTILINE)


def build_host(c_dir: Path, name: str, cache_dir: Path) -> Path:
    """Compile the host harness for NAME (cached by content); returns the executable."""
    cc = find_host_cc()
    c_file, h_file, headers = model_sources(c_dir, name)
    bench = harness_text("host_bench.c.in").replace("@NAME@", name)
    bench = bench.replace("@UPPER@", name.upper())
    srcs = [(p.name, p.read_bytes()) for p in (c_file, h_file, *headers)]
    key = content_key(
        [tool_version(cc), " ".join(HOST_CFLAGS + HOST_LDFLAGS), bench]
        + [f"{n}\0" for n, _ in srcs]
        + [d for _, d in srcs]
    )
    exe = cache_dir / "host" / f"{name}-{key}" / "bench"
    if exe.is_file():
        return exe
    exe.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=exe.parent) as tmp:
        work = Path(tmp)
        for fname, data in srcs:
            (work / fname).write_bytes(data)
        (work / "tcg_host_bench.c").write_text(bench)
        more = [p.name for p in headers if p.suffix == ".c"]
        cmd = [cc, *HOST_CFLAGS, "-I.", "tcg_host_bench.c", c_file.name, *more, "-o", "bench"]
        run_tool([*cmd, *HOST_LDFLAGS], "host compile", work)
        (work / "bench").replace(exe)
    return exe


def _rows_file(X: np.ndarray, work: Path) -> Path:
    path = work / "rows.bin"
    np.ascontiguousarray(X, dtype="<f4").tofile(path)
    return path


def _run(cmd: list[str], what: str) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-10:]
        raise TargetError(f"{what} failed (exit {proc.returncode}):\n" + "\n".join(tail))
    return proc.stdout


def host_shape(exe: Path) -> tuple[int, int]:
    """(N_FEATURES, N_CLASSES) compiled into the host harness."""
    n_features, n_classes = _run([str(exe), "info"], "host info").split()
    return int(n_features), int(n_classes)


def host_outputs(exe: Path, X: np.ndarray, n_classes: int = 0) -> np.ndarray:
    """int32 predictions, or (rows, n_classes) float32 probabilities when n_classes."""
    with tempfile.TemporaryDirectory() as tmp:
        rows = _rows_file(X, Path(tmp))
        out = Path(tmp) / "out.bin"
        mode = "proba" if n_classes else "predict"
        _run([str(exe), mode, str(rows), str(len(X)), str(out)], f"host {mode}")
        if n_classes:
            return np.fromfile(out, "<f4").reshape(len(X), n_classes)
        return np.fromfile(out, "<i4")


def host_ns_per_inference(exe: Path, X: np.ndarray, passes: int = 5) -> float:
    """Best-of-``passes`` wall time per NAME_predict call over all rows (ns)."""
    with tempfile.TemporaryDirectory() as tmp:
        rows = _rows_file(X, Path(tmp))
        out = _run([str(exe), "time", str(rows), str(len(X)), str(passes)], "host timing")
    return float(out.strip().splitlines()[-1])


def callgrind_per_call(
    exe: Path, name: str, X: np.ndarray, function: str = "predict"
) -> np.ndarray:
    """Instructions (callgrind Ir) of each ``NAME_<function>`` call, one per row of X.

    One callgrind run: ``--toggle-collect`` limits counting to the model function
    (inclusive of what it calls) and ``--dump-after`` with ``--combine-dumps``
    writes one part per call into a single file, in row order.
    """
    valgrind = find_valgrind()
    sym = f"{name}_{function}"
    mode = "proba" if function == "predict_proba" else "predict"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rows = _rows_file(X, work)
        out = work / "cg.out"
        cmd = [valgrind, "--tool=callgrind", f"--callgrind-out-file={out}"]
        cmd += [f"--toggle-collect={sym}", f"--dump-after={sym}", "--combine-dumps=yes"]
        cmd += ["--dump-line=no", "--compress-pos=yes", "--compress-strings=yes"]
        _run([*cmd, str(exe), mode, str(rows), str(len(X)), str(work / "out.bin")], "callgrind")
        totals = [int(v) for v in _TOTAL.findall(out.read_text(errors="replace"))]
    if len(totals) < len(X):
        raise TargetError(f"callgrind reported {len(totals)} calls of {sym} for {len(X)} rows")
    return np.asarray(totals[: len(X)], dtype=np.int64)
