"""Integer primitives of quantized linear models and MLPs, in NumPy, as ``tcg_qnet.h`` does them.

Every function here is the bit-exact definition of one C helper; the quantizer and the reference
evaluator (``ir/qnet.py``) use nothing else at inference time.

* :func:`requant`: ``floor((acc * mult + 2**(shift - 1)) / 2**shift)`` in int64 (round half up,
  i.e. toward +inf, on the exact product). ``mult`` has ``MULT_BITS`` bits and ``shift`` is in
  [1, 62]; the accumulator bounds in :data:`ACC_LIMIT` keep ``|acc * mult| + 2**61 < 2**63``.
* :func:`requant32`: int8 hidden layers, 32-bit only: ``a = clamp(floor(acc / 2**pre), -L, L)``
  (L = RQ32_L = 2**20 - 1), then exactly ``floor((a * mult + 2**(shift - 1)) / 2**shift)`` with
  mult < 2**20 and 11 <= shift <= 30. The C forms the 40-bit product in two halves: with
  ``a = 1024 h + l`` (h = floor(a / 1024), 0 <= l < 1024) it is
  ``floor((h mult + 2**(shift - 11) + floor(l mult / 1024)) / 2**(shift - 10))`` (nested floors
  of positive divisors), every term below 2**30 in magnitude. :func:`fixed_mult32` picks the
  smallest pre with ``m 2**pre >= 2**-11`` (or pre = 30, where |acc| < 2**31 gives |a| <= 2 < L)
  and caps m 2**pre at 2**8 (one unit of a then saturates every activation, as uncapped): the
  clamp at +-L (L m 2**pre >= 511) then only touches results >= 256 or <= -129, saturated either
  way by every hidden activation's clamp ([0, 255], [-127, 127], the LUT's [-128, 127]);
  ``QNetIR`` checks this in integers. **Error** vs the real ``acc * m``: floor(acc / 2**pre)
  loses less than one unit of a, worth m 2**pre < 2**-10 output unit, and mult is within 2**-20
  relatively of m 2**(pre + shift) (< 258 * 2**-20 unit where the result is not saturated): below
  0.0013 of an output step in all, next to the 0.5 step of rounding.
* :func:`interp`: a non-decreasing table of n + 1 entries over x in [0, 256 n] (x = 256 *
  segment + fraction, clamped): ``T[s] + floor(((T[s + 1] - T[s]) * f + 128) / 256)``; x = 256 n
  gives T[n].
* :func:`input_codes`: raw float32 value x to an unsigned input code, integers only, from the
  float's bits: ``x = (-1)**neg * M * 2**e`` (M the 24-bit significand), the constant
  ``A = (-1)**sa * am * 2**-ea`` (am 31 bits) and ``C = cf * 2**-16``:
  ``t = cf +- floor(M * am * 2**(e - ea + 16))`` (the magnitude truncated, then signed), and
  code = qmax if t >= qmax * 2**16, floor(t / 2**16) if t >= 2**16, else 0. C holds the +0.5 of
  round-half-up, so the code is ``round((z - lo) / step)`` to within 2**-16 of a step (plus
  ``CODE_REL_ERR[False] * |x A|``), clamped. Exact 64-bit arithmetic: int16 models, and int8
  models with some |C| > CODE32_C_LIMIT.
* :func:`input_codes32`: the same grid with 32-bit arithmetic only (int8 models whose every
  |C| <= CODE32_C_LIMIT; no 64-bit operation, which a Cortex-M0+ would call libgcc for). With
  ``k = ea + 126`` (in [0, 260]; A = 0 has am = 0 and k = 260) and the biased exponent ex:
  ``n = k - ex``; if n <= 5: qmax + 1 for NaN / +-inf (ex = 255: the caller rejects the row),
  else qmax for sign + and 0 for sign -. Otherwise
  ``M16 = floor(((bits & 0x7fffff | 0x800000) + 128) / 256)`` (the significand rounded to 16
  bits, <= 2**16; the implicit bit is set even for ex = 0), ``p = M16 * am < 2**32`` (am 16 bits,
  in [2**15, 2**16) or 0), ``V = floor(p / 2**n)`` (0 if n >= 32; < 2**26), ``t = cf +- V``
  (|t| < 2**31) and code = 0 if t < 0, else ``min(floor(t / 2**16), qmax)``. The cut-off changes
  nothing: for A != 0, n <= 5 means the exact ``V >= 2**30 / 2**5 = 2**25 > qmax * 2**16 + |cf|``
  (|cf| <= 2**24 + 1), so t is above qmax * 2**16 (sign +) or below 0 (sign -); for A = 0 only
  ex = 255 has n <= 5 (finite x: p = 0, V = 0). Every non-finite x has n <= 5 (k <= 260).
  Zero and subnormal x (ex = 0) give n >= 41 for every |A| < 2**101 (CODE_A_RANGE): V = 0, which
  is also the exact floor(|x A| 2**16).
  **Error** (vs the real floor(x A + C)): M16 * 256 is within 2**-16 of M relatively and am
  within 2**-16 of |A| 2**ea, so ``|x_t A_t - x A| <= |x A| * CODE_REL_ERR[True]``, on top of the
  2**-16 of the floor and the 2**-17 of cf, as in the 64-bit path. A code that is not clamped has
  |x A| <= |C| + qmax + 1 <= 513, so the extra error is below 0.016 of one code step (below
  0.008 step for |x A| <= 256, the usual MinMax-scaled case): far below the 0.5 step of rounding.
"""

from __future__ import annotations

import math

import numpy as np

QMAX = {"int8": 255, "int16": 65535}  # unsigned activations / input codes: [0, QMAX]
SMAX = {"int8": 127, "int16": 32767}  # weights and signed activations: [-SMAX, SMAX]
MULT_BITS = {"int8": 31, "int16": 17}  # requantization multipliers: [2**(b-1), 2**b)
ACC_LIMIT = {"int8": 2**31, "int16": 2**45}  # |accumulator| stays below this
BIAS_LIMIT = {"int8": 2**29, "int16": 2**43}  # |integer bias| at most this
LUT_X = 65536  # interpolated tables: x in [0, 256 * segments], 256 steps per segment
RQ32_L = 2**20 - 1  # requant32 clamp of acc / 2**pre
CODE_FRAC = 16  # fraction bits of the input-code computation
CODE_C_LIMIT = 2.0**40  # |C| * 2**16 and |A| bounds keep every input-code step inside int64
CODE_A_RANGE = (2.0**-100, 2.0**100)
CODE32_C_LIMIT = 256.0  # int8 and every |C| <= this: 32-bit input codes (input_codes32)
CODE32_K_ZERO = 260  # k = ea + 126 of A = 0 in input_codes32 (and the largest k)
CODE_AM_BITS = {False: 31, True: 16}  # am bits: 64-bit / 32-bit input codes
CODE_REL_ERR = {False: 2.0**-30, True: 2.0**-15 + 2.0**-31}  # relative error of |x A|

# Hidden tanh / logistic. int8: a direct 256-entry table indexed by the pre-activation requantized
# to [-128, 127] in steps of ``step``. int16: an interpolated 257-entry table over [-span, span].
LUT8_STEP = {"tanh": 1 / 32, "logistic": 1 / 16}
LUT16_SPAN = {"tanh": 8.0, "logistic": 16.0}
SIGMOID_SPAN = 16.0  # predict_proba: sigmoid over [-16, 16] (half table), exp over [-16, 0]
SIG_UNIT = SIGMOID_SPAN / (128 << 8)  # logit per step of the sigmoid argument
EXP_UNIT = 16.0 / LUT_X
EXP_SPAN = 16.0


def round_half_up(v: np.ndarray | float) -> np.ndarray:
    """floor(v + 0.5) (quantizer-time rounding of weights and tables; not a runtime op)."""
    return np.floor(np.asarray(v, dtype=np.float64) + 0.5)


def fixed_mult(m: float, mode: str, spare: int = 0) -> tuple[int, int]:
    """(mult, shift) with mult * 2**-shift ~= m, mult < 2**(MULT_BITS - spare), 1 <= shift <= 62.

    m is capped at 2**(bits - 2): one accumulator unit is then worth more than any output
    range holds, so the cap only changes results that saturate either way (up to the rounding
    of an already degenerate layer). ``spare`` = 1 leaves room for a doubled accumulator (a
    difference of two)."""
    bits = MULT_BITS[mode] - spare
    m = min(float(m), 2.0 ** (bits - 2))
    if not m > 0.0:
        return 0, 1
    e = math.frexp(m)[1] - 1  # 2**e <= m < 2**(e + 1)
    shift = min(bits - 1 - e, 62)
    mult = int(math.floor(m * 2.0**shift + 0.5))
    if mult >= 2**bits:
        mult //= 2
        shift -= 1
    return mult, shift


def requant(acc: np.ndarray, mult: np.ndarray | int, shift: np.ndarray | int) -> np.ndarray:
    acc = np.asarray(acc, dtype=np.int64)
    mult = np.asarray(mult, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    return (acc * mult + (np.int64(1) << (shift - 1))) >> shift


def fixed_mult32(m: float) -> tuple[int, int, int]:
    """(mult, shift, pre) of :func:`requant32` for a real multiplier m (see the module doc)."""
    pre = 0
    while pre < 30 and m * 2.0**pre < 2.0**-11:
        pre += 1
    m_eff = min(m * 2.0**pre, 2.0**8)
    if m_eff < 2.0**-11:  # pre = 30: |a| <= 2, the result is 0 or -1 whatever mult is
        return int(math.floor(m_eff * 2.0**30 + 0.5)), 30, pre
    mult, shift = fixed_mult(m_eff, "int8", spare=11)  # mult < 2**20, 11 <= shift <= 30
    return mult, shift, pre


def requant32(acc: np.ndarray, mult: np.ndarray | int, shift: np.ndarray | int,
              pre: np.ndarray | int) -> np.ndarray:
    a = np.clip(np.asarray(acc, np.int64) >> np.asarray(pre, np.int64), -RQ32_L, RQ32_L)
    shift = np.asarray(shift, dtype=np.int64)
    return (a * np.asarray(mult, np.int64) + (np.int64(1) << (shift - 1))) >> shift


def interp(table: np.ndarray, x: np.ndarray) -> np.ndarray:
    t = np.asarray(table, dtype=np.int64)
    n = len(t) - 1
    x = np.clip(np.asarray(x, dtype=np.int64), 0, n << 8)
    seg = np.minimum(x >> 8, n - 1)
    frac = np.where(x >= n << 8, 256, x & 255)
    return t[seg] + (((t[seg + 1] - t[seg]) * frac + 128) >> 8)


def sigmoid_q(r: np.ndarray) -> np.ndarray:
    """16-bit sigmoid of a logit in units of SIG_UNIT: the half table, mirrored."""
    y = np.clip(np.asarray(r, dtype=np.int64), -(128 << 8), 128 << 8)
    p = interp(sigmoid_table(), np.abs(y))
    return np.where(y >= 0, p, 65535 - p)


def input_codes(x: np.ndarray, am: np.ndarray, ea: np.ndarray, sa: np.ndarray, cf: np.ndarray,
                qmax: int) -> np.ndarray:
    """Unsigned input codes of float32 values (columns of x paired with the constants)."""
    b = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.int64)
    ex = (b >> 23) & 0xFF
    mant = (b & 0x7FFFFF) | np.where(ex != 0, 0x800000, 0)
    sh = np.where(ex != 0, ex, 1) - 150 - np.asarray(ea, np.int64) + CODE_FRAC
    p = mant * np.asarray(am, np.int64)  # < 2**55
    left = np.clip(sh, 0, 62)
    big = (sh > 62) | ((sh >= 0) & (p >= (np.int64(1) << (62 - left))))
    v = np.where(sh >= 0, np.where(big, np.int64(1) << 62, p << left),
                 p >> np.clip(-sh, 0, 62))
    v = np.where(p == 0, 0, v)
    t = np.where(((b >> 31) ^ np.asarray(sa, np.int64)) != 0, cf - v, cf + v)
    return np.where(t >= (qmax << CODE_FRAC), qmax,
                    np.where(t < (1 << CODE_FRAC), 0, t >> CODE_FRAC)).astype(np.int64)


def input_codes32(x: np.ndarray, am: np.ndarray, ea: np.ndarray, sa: np.ndarray, cf: np.ndarray,
                  qmax: int) -> np.ndarray:
    """Unsigned input codes with 32-bit arithmetic (``tcg_q_code32``; see the module doc)."""
    b = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.int64)
    p = ((((b & 0x7FFFFF) | 0x800000) + 128) >> 8) * np.asarray(am, np.int64)  # < 2**32
    n = np.asarray(ea, np.int64) + 126 - ((b >> 23) & 0xFF)
    neg = ((b >> 31) ^ np.asarray(sa, np.int64)) != 0
    v = np.where(n >= 32, 0, p >> np.clip(n, 0, 63))
    t = np.where(neg, cf - v, cf + v)
    code = np.where(t < 0, 0, np.minimum(t >> CODE_FRAC, qmax))
    sat = np.where((b & 0x7F800000) == 0x7F800000, qmax + 1, np.where(neg, 0, qmax))
    return np.where(n <= 5, sat, code).astype(np.int64)


def code32_ok(mode: str, c: np.ndarray) -> bool:
    """Whether a model's input codes take the 32-bit path (int8, every |C| small)."""
    return mode == "int8" and bool((np.abs(np.asarray(c, np.float64)) <= CODE32_C_LIMIT).all())


def code_consts(a: float, c: float, code32: bool = False) -> tuple[int, int, int, int]:
    """(am, ea, sa, cf) of the real constants A, C (see :func:`input_codes`, and
    :func:`input_codes32` when ``code32``: a 16-bit am)."""
    bits = CODE_AM_BITS[code32]
    cf = int(round_half_up(c * 2.0**CODE_FRAC))
    if a == 0.0:
        return 0, (CODE32_K_ZERO - 126 if code32 else 0), 0, cf
    e = math.frexp(abs(a))[1] - 1  # 2**e <= |a| < 2**(e + 1)
    ea = bits - 1 - e
    am = int(math.floor(abs(a) * 2.0**ea + 0.5))
    if am >= 2**bits:
        am //= 2
        ea -= 1
    return am, ea, int(a < 0), cf


# ---- tables ----------------------------------------------------------------------------------
def _expit(v: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * v))  # expit without overflow warnings


def hidden_lut(act: str, mode: str) -> np.ndarray:
    """Table of a hidden tanh / logistic (int64 values; see the module doc)."""
    if mode == "int8":
        v = (np.arange(256) - 128) * LUT8_STEP[act]
        scale = SMAX[mode] if act == "tanh" else QMAX[mode]
    else:
        v = (np.arange(257) - 128) * (LUT16_SPAN[act] / 128)
        scale = SMAX[mode] if act == "tanh" else QMAX[mode]
    f = np.tanh(v) if act == "tanh" else _expit(v)
    return round_half_up(f * scale).astype(np.int64)


def hidden_unit(act: str, mode: str) -> float:
    """Pre-activation value of one step of the requantized LUT argument."""
    if mode == "int8":
        return LUT8_STEP[act]
    return 2 * LUT16_SPAN[act] / LUT_X


def act_scale(act: str, mode: str, rng: float) -> float:
    """Real value of one unit of a hidden activation (``rng``: calibrated max for relu and
    identity)."""
    if act == "tanh":
        return 1.0 / SMAX[mode]
    if act == "logistic":
        return 1.0 / QMAX[mode]
    return rng / (QMAX[mode] if act == "relu" else SMAX[mode])


def act_bounds(act: str, mode: str) -> tuple[int, int]:
    if act in ("relu", "logistic"):
        return 0, QMAX[mode]
    return -SMAX[mode], SMAX[mode]


def sigmoid_table() -> np.ndarray:
    """65535 * expit(i / 8) for i = 0 .. 128 (the half [0, 16]; negatives mirror)."""
    v = np.arange(129) * (SIGMOID_SPAN / 128)
    return round_half_up(_expit(v) * 65535).astype(np.int64)


def exp_table() -> np.ndarray:
    v = (np.arange(257) - 256) * (EXP_SPAN / 256)
    return round_half_up(np.exp(v) * 65535).astype(np.int64)


def apply_hidden(acc: np.ndarray, act: str, mode: str, mult: np.ndarray,
                 shift: np.ndarray, pre: np.ndarray | None = None) -> np.ndarray:
    """Integer activation of a hidden layer from its accumulators (rows, units); ``pre``:
    :func:`requant32` (int8), else :func:`requant`."""
    r = requant(acc, mult, shift) if pre is None else requant32(acc, mult, shift, pre)
    if act in ("relu", "identity"):
        lo, hi = act_bounds(act, mode)
        return np.clip(r, lo, hi)
    table = hidden_lut(act, mode)
    if mode == "int8":
        return table[np.clip(r, -128, 127) + 128]
    return interp(table, r + LUT_X // 2)
