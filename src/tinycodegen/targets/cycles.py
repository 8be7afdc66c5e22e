"""Static cycle model for Cortex-M4(F) and Cortex-M0+ basic blocks.

Every basic block that the emulator reports is disassembled once with capstone
(Thumb, M-class; see :mod:`tinycodegen.targets.thumb`) and priced with the
tables below.  A block's cost is kept as
``base + P * refills`` so that one trace can be priced at any pipeline refill
penalty ``P``: ``p_always`` refills happen whenever the block runs (unconditional
branches, calls, returns, writes to PC), ``p_if_taken`` is 1 when the block ends
in a conditional branch, whose refill the caller charges only when the next
block executed is not the fall-through address.

Sources (zero wait states):

* Cortex-M4: *Cortex-M4 Technical Reference Manual* (ARM DDI 0439B / 100166),
  section 3.3.1 "Table of processor instructions" (Table 3-1), and chapter 7
  "Floating Point Unit", section 7.2.3 "FPU instruction set" (Table 7-1).
* Cortex-M0+: *Cortex-M0+ Technical Reference Manual* (ARM DDI 0484C),
  section 3.3 "Instruction set summary" (Table 3-1), with the single-cycle
  multiplier option.

P is the pipeline refill after a taken branch: "This ranges from 1 to 3
depending on the alignment and width of the target instruction" (M4 TRM).
Reports use P=2 on the M4 and P=1 on the M0+ (its two-stage pipeline: the
TRM's fixed counts -- B taken 2, BL 3, BX 2, POP {..,PC} 3+N -- are exactly the
formulas below at P=1) and give the range spanned by P=1..3 on both.

======================  =========================  ==========================
instruction             Cortex-M4 cycles           Cortex-M0+ cycles
======================  =========================  ==========================
ALU, MOV, shifts, CMP   1                          1
MOV/ADD to PC           1 + P                      1 + P (TRM: 2)
MUL, MLA, MLS, xMULL,   1                          MULS 1 (single-cycle
xMLAL                                              multiplier)
SDIV, UDIV              2..12, charged 12          (not in ARMv6-M)
LDR*, STR* (single)     2; 1 when it directly      2
                        follows a load/store
                        single it does not
                        depend on (pipelined)
LDR PC                  2 + P                      --
LDRD, STRD              1 + N (N = 2)              --
LDM, STM, PUSH, POP     1 + N registers            1 + N
... with PC in list     1 + N + P                  1 + N + P (TRM: 3+N, N
                                                   excluding PC)
B<cond>, CBZ, CBNZ      1, taken 1 + P             1, taken 1 + P (TRM: 2)
B, BX, BLX              1 + P                      1 + P (TRM: 2)
BL                      1 + P                      2 + P (TRM: 3)
TBB, TBH                2 + P                      --
IT, NOP, hints          1                          1 (WFI/WFE 2)
MRS, MSR, CPS           2 (TRM: 1 or 2)            MRS/MSR 3, CPS 1
DMB, DSB / ISB          1 / 1 + P                  3
VADD VSUB VMUL VNMUL    1                          (no FPU: soft-float
VABS VNEG VCMP VCVT                                library calls)
VMOV (one register)
VMRS VMSR
VMOV two core regs      2
VMLA VMLS VNMLA VNMLS   3
VFMA VFMS VFNMA VFNMS
VDIV, VSQRT             14
VLDR, VSTR              2 (single), 3 (double)
VLDM VSTM VPUSH VPOP    1 + N (single registers)
======================  =========================  ==========================

Limits of the model: instructions inside an IT block whose condition fails
are charged like executed ones (the block hook cannot tell them apart); no
wait states, bus contention, unaligned-fetch or register-dependency stalls
other than the load/store pipelining rule above.  Instructions that the tables
do not name are charged 1 cycle and listed in ``BlockCost.unpriced``.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinycodegen.targets.thumb import Insn, disassemble

CORES = ("m4", "m0plus")
DEFAULT_P = {"m4": 2, "m0plus": 1}
P_RANGE = (1, 3)
DIV_CYCLES = 12

_LS_SINGLE = frozenset(
    "ldr ldrb ldrh ldrsb ldrsh ldrt ldrbt ldrht ldrsbt ldrsht ldrex ldrexb ldrexh "
    "str strb strh strt strbt strht strex strexb strexh".split()
)
_LS_MULTI = frozenset("ldm ldmia ldmdb stm stmia stmdb push pop".split())
_FP_MULTI = frozenset("vldmia vldmdb vstmia vstmdb vpush vpop vldm vstm".split())
_FP3 = frozenset("vmla vmls vnmla vnmls vfma vfms vfnma vfnms".split())
_FP14 = frozenset(("vdiv", "vsqrt"))
_FP1 = frozenset(
    "vadd vsub vmul vnmul vabs vneg vcmp vcmpe vcvt vcvtr vcvtb vcvtt vmrs vmsr vmov".split()
)
_KNOWN_INT = frozenset(
    """adc add addw adr and asr bfc bfi bic clz cmn cmp eor lsl lsr mla mls mov movt movw mul
    mvn neg orn orr pkhbt pkhtb qadd qdadd qdsub qsub rbit rev rev16 revsh ror rrx rsb sbc sbfx
    sel smlal smull ssat sub subw sxtab sxtah sxtb sxth teq tst ubfx umaal umlal umull usat
    uxtab uxtah uxtb uxth it nop yield sev pld pli""".split()
)
BRANCHES = frozenset("b bl bx blx cbz cbnz tbb tbh".split())


@dataclass(frozen=True)
class BlockCost:
    """Price of one basic block (one pass through it)."""

    n_instr: int
    base: int
    p_always: int
    p_if_taken: int
    unpriced: tuple[str, ...] = ()

    def cycles(self, p: int, taken: bool) -> int:
        """Cycles of one execution at refill penalty ``p``."""
        return self.base + p * (self.p_always + (self.p_if_taken if taken else 0))


def _refill(insn: Insn, base: int) -> tuple[int, int, int]:
    """A control transfer: unconditional always refills, conditional when taken."""
    return (base, 0, 1) if insn.cond else (base, 1, 0)


def _branch(insn: Insn, core: str) -> tuple[int, int, int] | None:
    name = insn.name
    if name in ("cbz", "cbnz"):
        return 1, 0, 1
    if name in ("b", "bx", "blx"):
        return _refill(insn, 1)
    if name == "bl":
        return _refill(insn, 2 if core == "m0plus" else 1)
    if name in ("tbb", "tbh"):
        return _refill(insn, 2)
    if name in ("mov", "add") and insn.writes_pc():
        return _refill(insn, 1)
    return None


def _core_cost(insn: Insn, core: str) -> tuple[int, int, int] | None:
    """(base, p_always, p_if_taken) for non-FP instructions, None if unpriced."""
    br = _branch(insn, core)
    if br is not None:
        return br
    name = insn.name
    if name in _LS_SINGLE:
        return _refill(insn, 2) if insn.writes_pc() else (2, 0, 0)
    if name in ("ldrd", "strd"):
        return 3, 0, 0
    if name in _LS_MULTI:
        n = len(insn.reg_list())
        return _refill(insn, 1 + n) if insn.writes_pc() else (1 + n, 0, 0)
    if name in ("sdiv", "udiv"):
        return DIV_CYCLES, 0, 0
    if core == "m0plus":
        if name in ("mrs", "msr", "dmb", "dsb", "isb"):
            return 3, 0, 0
        if name in ("wfi", "wfe"):
            return 2, 0, 0
        if name in ("cpsid", "cpsie"):
            return 1, 0, 0
    else:
        if name in ("mrs", "msr", "cpsid", "cpsie"):
            return 2, 0, 0
        if name == "isb":
            return 1, 1, 0
        if name in ("dmb", "dsb", "wfi", "wfe", "clrex"):
            return 1, 0, 0
    return (1, 0, 0) if name in _KNOWN_INT else None


def _fp_cost(insn: Insn) -> int | None:
    name = insn.name
    if name in _FP14:
        return 14
    if name in _FP3:
        return 3
    if name in ("vldr", "vstr"):
        return 3 if insn.regs()[0].startswith("d") else 2
    if name in _FP_MULTI:
        return 1 + sum(2 if r.startswith("d") else 1 for r in insn.reg_list())
    if name == "vmov":
        return 2 if len(insn.regs()) >= 3 else 1
    if name in _FP1:
        return 1
    return None


def insn_cost(insn: Insn, core: str) -> tuple[int, int, int, bool]:
    """(base, p_always, p_if_taken, priced) of one instruction, without pipelining."""
    if core not in CORES:
        raise ValueError(f"unknown core {core!r}")
    if insn.name.startswith("v"):
        fp = _fp_cost(insn) if core == "m4" else None
        return (fp, 0, 0, True) if fp is not None else (1, 0, 0, False)
    cost = _core_cost(insn, core)
    return (*cost, True) if cost is not None else (1, 0, 0, False)


def pipelines(prev: Insn | None, insn: Insn) -> bool:
    """M4: a load/store single directly after another, not using its result."""
    if prev is None or prev.name not in _LS_SINGLE or insn.name not in _LS_SINGLE:
        return False
    if prev.writes_pc() or insn.writes_pc():
        return False
    return not (prev.written_regs() & insn.mem_regs())


def ends_block(insn: Insn, core: str) -> bool:
    """Whether the instruction transfers control (so a new basic block follows)."""
    _, p_always, p_if_taken, _ = insn_cost(insn, core)
    return p_always > 0 or p_if_taken > 0 or insn.name in BRANCHES


def price_instructions(insns: list[Insn], core: str) -> BlockCost:
    """Price a straight-line run of instructions (one basic block)."""
    base = p_always = p_if_taken = 0
    unpriced: list[str] = []
    prev = None
    for insn in insns:
        b, pa, pt, priced = insn_cost(insn, core)
        if core == "m4" and pipelines(prev, insn):
            b -= 1
        if not priced:
            unpriced.append(insn.mnemonic)
        base, p_always, p_if_taken = base + b, p_always + pa, p_if_taken + pt
        prev = insn
    return BlockCost(len(insns), base, p_always, p_if_taken, tuple(unpriced))


def block_cost(code: bytes, address: int, core: str) -> BlockCost:
    """Disassemble and price the basic block ``code`` starting at ``address``."""
    insns = disassemble(code, address)
    decoded = sum(i.size for i in insns)
    if decoded != len(code):
        raise ValueError(
            f"capstone decoded {decoded} of {len(code)} bytes of the block at {address:#x}"
        )
    return price_instructions(insns, core)
