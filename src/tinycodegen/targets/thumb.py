"""Thumb instructions as the cycle model needs them, from capstone's lite mode.

capstone's detail mode builds several Python objects per instruction, which
dominates the one-time pricing of large generated models (tens of thousands of
distinct basic blocks).  ``Cs.disasm_lite`` returns plain (address, size,
mnemonic, operands) tuples; this module splits the mnemonic into its base
name and condition and reads the few operand facts the cycle tables use
(register lists, PC as destination, address registers, writeback).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from capstone import Cs

CONDS = ("eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt",
         "gt", "le")  # fmt: skip
_BASE = """
adc add addw adr and asr b bfc bfi bic bkpt bl blx bx cbnz cbz clrex clz cmn cmp cpsid cpsie
dbg dmb dsb eor isb ldm ldmdb ldmia ldr ldrb ldrbt ldrd ldrex ldrexb ldrexh ldrh ldrht ldrsb
ldrsbt ldrsh ldrsht ldrt lsl lsr mla mls mov movt movw mrs msr mul mvn neg nop orn orr pkhbt
pkhtb pld pli pop push qadd qdadd qdsub qsub rbit rev rev16 revsh ror rrx rsb sbc sbfx sdiv sel
sev smlal smull ssat stm stmdb stmia str strb strbt strd strex strexb strexh strh strht strt sub
subw svc sxtab sxtah sxtb sxth tbb tbh teq tst ubfx udf udiv umaal umlal umull usat uxtab uxtah
uxtb uxth wfe wfi yield
vabs vadd vcmp vcmpe vcvt vcvtb vcvtr vcvtt vdiv vfma vfms vfnma vfnms vldm vldmdb vldmia vldr
vmla vmls vmov vmrs vmsr vmul vneg vnmla vnmls vnmul vpop vpush vsqrt vstm vstmdb vstmia vstr
vsub
"""
KNOWN = frozenset(_BASE.split())
_REG = re.compile(r"\b(r\d{1,2}|[sd]\d{1,2}|sp|lr|pc|ip|fp|sb|sl)\b")
_ALIAS = {"sb": "r9", "sl": "r10", "fp": "r11", "ip": "r12"}


@dataclass(frozen=True, slots=True)
class Insn:
    """One decoded instruction: ``name`` is the base mnemonic (no cond/S/width)."""

    address: int
    size: int
    mnemonic: str
    op_str: str
    name: str
    cond: bool

    def regs(self) -> list[str]:
        return [_ALIAS.get(r, r) for r in _REG.findall(self.op_str)]

    def reg_list(self) -> list[str]:
        """Registers between braces (LDM/STM/PUSH/POP/VPUSH...)."""
        inner = self.op_str.partition("{")[2].partition("}")[0]
        return [_ALIAS.get(r, r) for r in _REG.findall(inner)]

    def mem_regs(self) -> set[str]:
        """Registers inside the memory operand's brackets."""
        inner = self.op_str.partition("[")[2].partition("]")[0]
        return {_ALIAS.get(r, r) for r in _REG.findall(inner)}

    def writes_pc(self) -> bool:
        head = self.op_str.split(",", 1)[0].strip()
        return head == "pc" or "pc" in self.reg_list() and self.name in ("pop", "ldm", "ldmia")

    def written_regs(self) -> set[str]:
        """Destination of a load plus a written-back base (for the pipelining rule)."""
        regs = self.regs()
        out: set[str] = set()
        if regs and self.name.startswith("ldr"):
            out.add(regs[0])
            if self.name == "ldrd" and len(regs) > 1:
                out.add(regs[1])
        if "!" in self.op_str or re.search(r"\],\s*#", self.op_str):
            base = self.op_str.partition("[")[2].partition("]")[0].split(",")[0].strip()
            out.add(_ALIAS.get(base, base))
        return out


def split_mnemonic(mnemonic: str) -> tuple[str, bool]:
    """('b', True) for 'bls', ('lsl', False) for 'lsls', ('mov', True) for 'movhi'."""
    m = mnemonic.split(".", 1)[0].lower()
    if m in KNOWN:
        return m, False
    if m.startswith("it") and set(m[2:]) <= {"t", "e"}:
        return "it", False
    if len(m) > 2 and m[-2:] in CONDS:
        stem = m[:-2]
        if stem in KNOWN:
            return stem, True
        if stem.endswith("s") and stem[:-1] in KNOWN:
            return stem[:-1], True
    if m.endswith("s") and m[:-1] in KNOWN:
        return m[:-1], False
    return m, False


@lru_cache(maxsize=1)
def _lite_disassembler() -> Cs:
    from capstone import CS_ARCH_ARM, CS_MODE_MCLASS, CS_MODE_THUMB
    from capstone import Cs as _Cs

    return _Cs(CS_ARCH_ARM, CS_MODE_THUMB | CS_MODE_MCLASS)


@lru_cache(maxsize=4096)
def _parse(mnemonic: str) -> tuple[str, bool]:
    return split_mnemonic(mnemonic)


def disassemble(code: bytes, address: int) -> list[Insn]:
    """Decode a Thumb code range (stops at the first undecodable bytes)."""
    out = []
    for addr, size, mnemonic, op_str in _lite_disassembler().disasm_lite(code, address):
        name, cond = _parse(mnemonic)
        out.append(Insn(addr, size, mnemonic, op_str, name, cond))
    return out
