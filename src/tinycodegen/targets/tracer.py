"""Record the basic blocks unicorn executes, without Python work per block.

The preferred tracer is a ~20-line C hook (``harness/trace_hook.c``) compiled
once into a host shared library and registered through unicorn's C API: it
appends (address, size) of every block to two numpy-owned buffers.  When no
host C compiler is available, a pure-Python UC_HOOK_BLOCK callback does the
same (correct, about 20x slower).
"""

from __future__ import annotations

import ctypes
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tinycodegen.errors import TinycodegenError
from tinycodegen.targets.toolchain import content_key, find_host_cc, harness_text, run_tool

if TYPE_CHECKING:
    from unicorn import Uc

_HOOK_LIBS: dict[Path, ctypes.CDLL] = {}


class _TraceStruct(ctypes.Structure):
    _fields_ = [
        ("addr", ctypes.c_void_p),
        ("size", ctypes.c_void_p),
        ("cap", ctypes.c_uint64),
        ("n", ctypes.c_uint64),
        ("overflow", ctypes.c_uint32),
        ("pad_", ctypes.c_uint32),
        ("emu_stop", ctypes.c_void_p),
    ]


def _hook_library(cache_dir: Path) -> ctypes.CDLL | None:
    """Compile (once, cached) and load the C block hook; None if impossible."""
    source = harness_text("trace_hook.c")
    try:
        cc = find_host_cc()
    except TinycodegenError:  # no host compiler: Python fallback
        return None
    lib = cache_dir / "host" / f"trace_hook-{content_key([source, cc])}.so"
    if lib in _HOOK_LIBS:
        return _HOOK_LIBS[lib]
    if not lib.is_file():
        lib.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=lib.parent) as tmp:
            src = Path(tmp) / "trace_hook.c"
            src.write_text(source)
            out = Path(tmp) / "hook.so"
            try:
                run_tool([cc, "-O2", "-shared", "-fPIC", str(src), "-o", str(out)], "trace hook")
            except TinycodegenError:
                return None
            shutil.move(str(out), lib)
    try:
        _HOOK_LIBS[lib] = ctypes.CDLL(str(lib))
    except OSError:
        return None
    return _HOOK_LIBS[lib]


class BlockTracer:
    """Appends (address, size) of each executed block to ``addr`` / ``size``."""

    def __init__(self, uc: Uc, capacity: int, cache_dir: Path) -> None:
        self.addr = np.zeros(capacity, dtype=np.uint32)
        self.size = np.zeros(capacity, dtype=np.uint32)
        self.capacity = capacity
        self._uc = uc
        self._py_n = 0
        self._py_overflow = False
        self._c = self._install_c(uc, cache_dir)
        if self._c is None:
            self._install_python(uc)

    @property
    def native(self) -> bool:
        return self._c is not None

    def _install_c(self, uc: Uc, cache_dir: Path) -> _TraceStruct | None:
        lib = _hook_library(cache_dir)
        if lib is None:
            return None
        try:
            from unicorn import UC_HOOK_BLOCK
            from unicorn.unicorn_py3.unicorn import uclib
        except ImportError:
            return None
        trace = _TraceStruct()
        trace.addr = self.addr.ctypes.data
        trace.size = self.size.ctypes.data
        trace.cap = self.capacity
        trace.emu_stop = ctypes.cast(uclib.uc_emu_stop, ctypes.c_void_p).value
        handle = ctypes.c_size_t()
        fn = ctypes.cast(lib.tcg_trace_block, ctypes.c_void_p)
        status = uclib.uc_hook_add(
            uc._uch,
            ctypes.byref(handle),
            UC_HOOK_BLOCK,
            fn,
            ctypes.c_void_p(ctypes.addressof(trace)),
            ctypes.c_uint64(1),
            ctypes.c_uint64(0),
        )
        if status != 0:
            return None
        self._keep = (lib, fn, handle)  # keep alive as long as the hook
        return trace

    def _install_python(self, uc: Uc) -> None:
        from unicorn import UC_HOOK_BLOCK

        def hook(emu: Uc, address: int, size: int, _user: object) -> None:
            n = self._py_n
            if n < self.capacity:
                self.addr[n] = address
                self.size[n] = size
                self._py_n = n + 1
            elif not self._py_overflow:
                self._py_overflow = True
                emu.emu_stop()

        uc.hook_add(UC_HOOK_BLOCK, hook)

    @property
    def n(self) -> int:
        return int(self._c.n) if self._c is not None else self._py_n

    @property
    def overflow(self) -> bool:
        return bool(self._c.overflow) if self._c is not None else self._py_overflow

    def reset(self) -> None:
        if self._c is not None:
            self._c.n = 0
            self._c.overflow = 0
        else:
            self._py_n = 0
            self._py_overflow = False

    def grow(self, capacity: int) -> None:
        """Larger buffers (for a row longer than the capacity); empties the trace."""
        self.addr = np.zeros(capacity, dtype=np.uint32)
        self.size = np.zeros(capacity, dtype=np.uint32)
        self.capacity = capacity
        if self._c is not None:
            self._c.addr = self.addr.ctypes.data
            self._c.size = self.size.ctypes.data
            self._c.cap = capacity
        self.reset()

    def rewind(self, n: int) -> None:
        """Drop everything recorded after position ``n`` (and the overflow flag)."""
        if self._c is not None:
            self._c.n = n
            self._c.overflow = 0
        else:
            self._py_n = n
            self._py_overflow = False
