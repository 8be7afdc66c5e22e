"""The float fast path of an rbf SVC: its constants, its error bound, and a bit-exact NumPy mirror.

Per row the C computes, all in float (u = 2**-24):

* z' = (float) z; per support vector i: S' = four-accumulator sum of (z'_j - s'_j)^2 (feature j
  goes to accumulator j % 4, combined as (a0 + a1) + (a2 + a3)), t' = g' * S',
  K' = tcg_expf_neg(-t') and K't' = K' * t';
* per pair p, over its support vectors in libsvm's order: acc += c' * K', then P += |acc|,
  W0 += |c'| * K', W1 += |c'| * K't'; finally acc -= rho', P += |acc|;
* E = ((CU * P + CA0 * W0) + CA1 * W1) + CB_p, and the pair is certain when |acc| > E.

Why E bounds |acc - libsvm's double dec_p| (every term is an upper bound, constants are rounded
up): each float addition errs by at most u * |its result| (the P term); c' and the product c'K'
by u each (2u W0); |S' - S| <= rho_S S' + A-terms where rho_S ~ (n + 3) u covers the squares and
the sum, and A bounds the input and support-vector rounding (0 when both are floats); t' then
errs by at most C1 t' + c0, so |exp(-t') - exp(-t)| <= K' (C1 t' + c0) * 1.016 (the argument error
is kept below 2**-6, checked per row when A is not constant); tcg_expf_neg errs by at most 1.72 u
relative (exhaustively checked) and 2**-149 absolute; glibc's exp by one double ulp; libsvm's own
double sums by gamma_m(2**-53). Subnormal and flushed values are covered by 2**-126 per SV.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tinycodegen.families.svm.ir import SVCIR

F32 = np.float32
U = 2.0**-24
U64 = 2.0**-53
EXPF_REL_ERR = 2.0 * U  # tcg_expf_neg: measured max 1.711 u over every float in [-104, 0]
ETA = 2.0**-126
ROW_LIMIT = 0.015  # largest allowed bound on the exp argument error (< 2**-6)
EXPF_CONST = {
    "log2e": F32("1.44269502"), "ln2_hi": F32("0.693145752"), "ln2_lo": F32("1.42860677e-06"),
    "p7": F32("1.98412701e-04"), "p6": F32("1.38888892e-03"), "p5": F32("8.33333377e-03"),
    "p4": F32("4.16666679e-02"), "p3": F32("1.66666672e-01"), "tiny": F32("5.42101086e-20"),
}
assert float(EXPF_CONST["tiny"]) == 2.0**-64


def _gamma(k: int, u: float) -> float:
    return k * u / (1.0 - k * u)


def up(x: float) -> np.float32:
    """The smallest float >= x."""
    v = F32(x)
    if float(v) < x:
        v = np.nextafter(v, F32(np.inf))
    return F32(v)


@dataclass(frozen=True, eq=False)
class FastConstants:
    sv32: np.ndarray  # float32 (n_sv, width)
    coef32: np.ndarray  # float32 (n_classes - 1, n_sv)
    rho32: np.ndarray  # float32 (n_pairs,)
    g32: np.float32
    cu: np.float32
    cb: np.ndarray  # float32 (n_pairs,)
    need_a: bool  # input transform present: A is computed per row
    ca0: np.float32  # used when not need_a
    ca1: np.float32
    c1: np.float32  # per-row pieces (need_a)
    c1a: np.float32
    ga: np.float32
    au: np.float32
    esv: np.float32
    k0: np.float32
    k0a: np.float32
    k1: np.float32


def fast_constants(ir: SVCIR) -> FastConstants | None:
    """Constants of the float fast path, or None when the model is outside its assumptions."""
    nf, m = ir.width, ir.n_sv
    with np.errstate(over="ignore"):
        sv32 = ir.sv.astype(np.float32)
        coef32 = ir.dual_coef.astype(np.float32)
        rho32 = ir.rho.astype(np.float32)
        g32 = F32(ir.gamma)
    tiny = np.finfo(np.float32).tiny
    if not (np.isfinite(sv32).all() and np.isfinite(coef32).all() and np.isfinite(rho32).all()
            and np.isfinite(g32) and (ir.gamma == 0 or float(g32) >= tiny)):
        return None
    rho_s = (_gamma(nf, U) + (3 * U + U * U) / (1 - U)) / (1 - _gamma(nf, U))
    rho64 = (nf + 3) * U64 * 1.01
    c1 = (U + (U + rho_s) * (1 + 2.01 * U) + (2 * U64 + rho64) * 1.01) * (1 + 2.0**-20)
    c1a = (1 + U) * (1 + 2 * rho_s) * (1 + 2.01 * U) * (1 + 2.0**-20)
    ga = float(g32) * (1 + U) ** 2 * (1 + 2.0**-20)
    delta = _gamma(m + 1, U) * 1.01 + 16 * U
    g64m = _gamma(m + 1, U64) * 1.01
    k0 = (2 * U * (1 + U) + (1 + U) * (EXPF_REL_ERR + 2.0**-51) * 1.0002 + g64m) * (1 + delta)
    k1 = (1 + U) * 1.016 * (1 + delta)
    cu = U * (1 + delta)
    err_sv = np.sqrt(((sv32.astype(np.float64) - ir.sv) ** 2).sum(axis=1)).max(initial=0.0)
    need_a = ir.transform is not None
    esv = err_sv * (1 + 2.0**-20) + (nf * 2.0**-150 if need_a else 0.0)
    au = U * (1 + U) * (1 + _gamma(nf, U) * 1.01)
    _, coefs = ir.pair_terms
    cb = np.array([
        (U * abs(r) + g64m * abs(r) + (1 + U) * ETA * float(np.abs(c.astype(np.float32)).sum())
         + (m + 1) * 2.0**-148) * (1 + delta)
        for r, c in zip(ir.rho.tolist(), coefs, strict=True)
    ])
    c1r = c1 + esv * c1a
    c0r = ga * (esv + esv * esv)
    if not need_a and 104 * c1r + c0r > ROW_LIMIT:
        return None
    return FastConstants(
        sv32=sv32, coef32=coef32, rho32=rho32, g32=g32, cu=up(cu),
        cb=np.array([up(v) for v in cb], dtype=np.float32), need_a=need_a,
        ca0=up(k0 + k1 * c0r), ca1=up(k1 * c1r), c1=up(c1), c1a=up(c1a), ga=up(ga),
        au=up(au), esv=up(esv), k0=up(k0), k0a=up(k1), k1=up(k1),
    )


def expf_neg(y: np.ndarray) -> np.ndarray:
    """tcg_expf_neg, operation for operation, in float32."""
    c = EXPF_CONST
    y = np.asarray(y, dtype=np.float32)
    out = np.where(np.isnan(y), y, F32(0)).astype(np.float32)
    ok = y >= F32(-104)
    yy = y[ok]
    v = yy * c["log2e"]
    n = np.trunc(v - F32(0.5)).astype(np.int32)
    nf = n.astype(np.float32)
    r = (yy - nf * c["ln2_hi"]) - nf * c["ln2_lo"]
    p = c["p7"]
    for coef in (c["p6"], c["p5"], c["p4"], c["p3"], F32(0.5), F32(1), F32(1)):
        p = p * r + coef
    normal = n >= -126
    bits = np.where(normal, n + 127, n + 64 + 127).astype(np.uint32) << np.uint32(23)
    scale = bits.view(np.float32)
    res = p * scale
    res = np.where(normal, res, res * c["tiny"]).astype(np.float32)
    out[ok] = res
    return out


def fast_decide(ir: SVCIR, fc: FastConstants, z: np.ndarray,
                chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """(decided, class index) per row, exactly as the C fast path computes them."""
    n = len(z)
    decided = np.zeros(n, dtype=bool)
    predict = np.zeros(n, dtype=np.int32)
    for s in range(0, n, chunk):
        d, p = _fast_chunk(ir, fc, np.asarray(z[s:s + chunk], dtype=np.float64))
        decided[s:s + chunk], predict[s:s + chunk] = d, p
    return decided, predict


def _fast_chunk(ir: SVCIR, fc: FastConstants, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(all="ignore"):
        zf = z.astype(np.float32)
        ok, ca0, ca1 = _row_terms(fc, zf)
        acc4 = np.zeros((4, len(zf), ir.n_sv), dtype=np.float32)
        for j in range(ir.width):
            d = zf[:, j:j + 1] - fc.sv32[None, :, j]
            acc4[j % 4] = acc4[j % 4] + d * d
        t = fc.g32 * ((acc4[0] + acc4[1]) + (acc4[2] + acc4[3]))
        k = expf_neg(-t)
        kt = k * t
        idx, _ = ir.pair_terms
        certain = ok.copy()
        pos = np.zeros((len(zf), ir.n_pairs), dtype=bool)
        for p, (i, j) in enumerate(ir.pairs):
            a = np.zeros(len(zf), np.float32)
            pp, w0, w1 = a.copy(), a.copy(), a.copy()
            for sv in idx[p].tolist():
                c = fc.coef32[j - 1 if sv < ir.start[i] + ir.n_support[i] else i, sv]
                ac = np.abs(c)
                a = a + c * k[:, sv]
                pp = pp + np.abs(a)
                w0 = w0 + ac * k[:, sv]
                w1 = w1 + ac * kt[:, sv]
            a = a - fc.rho32[p]
            pp = pp + np.abs(a)
            e = ((fc.cu * pp + ca0 * w0) + ca1 * w1) + fc.cb[p]
            certain &= np.abs(a) > e
            pos[:, p] = a > 0
    return _vote_certain(ir, certain, pos)


def _row_terms(fc: FastConstants, zf: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(zf)
    if not fc.need_a:
        return (np.ones(n, dtype=bool), np.full(n, fc.ca0, np.float32),
                np.full(n, fc.ca1, np.float32))
    asum = np.zeros(n, np.float32)
    for j in range(zf.shape[1]):
        asum = asum + np.abs(zf[:, j])
    a = fc.au * asum + fc.esv
    c1r = fc.c1 + a * fc.c1a
    c0r = fc.ga * (a + a * a)
    ok = (F32(104) * c1r + c0r) <= F32(ROW_LIMIT)
    return ok, fc.k1 * c1r, fc.k0 + fc.k0a * c0r


def _vote_certain(ir: SVCIR, certain: np.ndarray,
                  pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    k = ir.meta.n_classes
    votes = np.zeros((len(pos), k), dtype=np.int64)
    for p, (i, j) in enumerate(ir.pairs):
        votes[pos[:, p], i] += 1
        votes[~pos[:, p], j] += 1
    best = np.argmax(votes, axis=1).astype(np.int32)
    if ir.break_ties and ir.ovr and k > 2:
        top = votes.max(axis=1)
        certain = certain & ((votes == top[:, None]).sum(axis=1) == 1)
    return certain, best
