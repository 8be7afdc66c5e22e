"""Slow per-instruction reference count, to validate the block-hook accounting.

unicorn's UC_HOOK_CODE does not fire for instructions of an IT block whose
condition fails, although the core still issues them.  This reference records
every hooked instruction, re-inserts the skipped IT-block instructions from
the IT mask, and prices the resulting instruction stream one instruction at a
time (a branch is taken when the next issued instruction is not the next one
in memory).  It shares only the per-instruction price table with the fast
path, not the block bookkeeping.  Use it on a few rows only.
"""

from __future__ import annotations

import numpy as np

from tinycodegen.targets import cycles
from tinycodegen.targets.emulate import IO_BASE, Emulator
from tinycodegen.targets.thumb import Insn, disassemble


def _decode(em: Emulator, cache: dict[int, Insn], address: int) -> Insn:
    insn = cache.get(address)
    if insn is None:
        insn = disassemble(bytes(em.uc.mem_read(address, 4)), address)[0]
        cache[address] = insn
    return insn


def issued_stream(
    em: Emulator, function: str, row: np.ndarray, n_out: int = 0
) -> tuple[list[Insn], int]:
    """(capstone instructions issued by one call incl. IT-skipped ones, hooked count)."""
    from unicorn import UC_HOOK_CODE

    decoded: dict[int, Insn] = {}
    hooked: list[int] = []
    handle = em.uc.hook_add(UC_HOOK_CODE, lambda _uc, a, _s, _u: hooked.append(a))
    em.uc.ctl_flush_tb()  # cached blocks were translated without this hook
    mark = em.tracer.n
    try:
        em._ensure_io(4 * (row.size + n_out) + 8)
        em.uc.mem_write(IO_BASE, np.ascontiguousarray(row, "<f4").tobytes())
        out = IO_BASE + 4 * row.size + 4 if n_out else 0
        em._call(em.address(function) | 1, out, f"{function} (reference)")
    finally:
        em.uc.hook_del(handle)
        em.uc.ctl_flush_tb()
        em.tracer.rewind(mark)
    stream: list = []
    shadow: list[int] = []  # addresses still expected inside the current IT block
    for address in hooked:
        while shadow and shadow[0] != address:
            stream.append(_decode(em, decoded, shadow.pop(0)))  # condition failed
        if shadow:
            shadow.pop(0)
        insn = _decode(em, decoded, address)
        stream.append(insn)
        if insn.name == "it":
            k = len(insn.mnemonic) - 1  # it, ite, itte, ...: one slot per letter
            nxt = address + insn.size
            for _ in range(k):
                shadow.append(nxt)
                nxt += _decode(em, decoded, nxt).size
    stream.extend(_decode(em, decoded, a) for a in shadow)
    return stream, len(hooked)


def reference_counts(
    em: Emulator, function: str, row: np.ndarray, n_out: int = 0
) -> tuple[int, int, int]:
    """(instructions, base cycles, refills) of one call, priced instruction by instruction."""
    stream, _ = issued_stream(em, function, row, n_out)
    base = refills = 0
    prev = None
    for k, insn in enumerate(stream):
        b, p_always, p_if_taken, _ = cycles.insn_cost(insn, em.core)
        if em.core == "m4" and cycles.pipelines(prev, insn):
            b -= 1
        nxt = stream[k + 1].address if k + 1 < len(stream) else em.halt
        taken = nxt != insn.address + insn.size
        base += b
        refills += p_always + (p_if_taken if taken else 0)
        prev = None if cycles.ends_block(insn, em.core) else insn
    return len(stream), base, refills
