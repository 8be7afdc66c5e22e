"""C writer for quantized VotingClassifiers ("qhybrid", see ``ir/qhybrid.py``): every member is
emitted by its quantized family's writer as ``NAME_m<i>.c/.h``; ``NAME.c`` votes in integers."""

from __future__ import annotations

from tinycodegen._version import __version__
from tinycodegen.core.csource import CSource, header, render
from tinycodegen.core.runtime import runtime_files
from tinycodegen.families.hybrid.emit import member_sources
from tinycodegen.families.hybrid.qir import QHybridIR, max_den

RUNTIME = ("tcg_qnet.h", "tcg_vote.h", "tcg_qvote.h")


def member_call(fn: str) -> str:
    """C expression: the member's integer predict_proba into num, its denominator (0: reject).
    Every quantized family exports ``uint32_t NAME_qproba(const float *x, uint32_t *num)``."""
    return f"{fn}_qproba(x, num)"


def soft_body(ir: QHybridIR, name: str) -> str:
    parts = []
    for i, (member, w) in enumerate(zip(ir.members, ir.weights, strict=True)):
        if w == 0:
            continue
        fn = f"{name}_m{i}"
        add = "tcg_qvote_add16" if max_den(member) < 65536 else "tcg_qvote_add64"
        parts.append(render("qhybrid_member.c.tmpl", CALL=member_call(fn), ADD=add,
                            W=int(w), UNAME=name.upper()))
    return render("qhybrid_soft.c.tmpl", NAME=name, UNAME=name.upper(), MEMBERS="".join(parts),
                  TOTAL=ir.total)


def hard_body(ir: QHybridIR, name: str) -> str:
    calls = "".join(f"    p[{i}] = {name}_m{i}_predict(x);\n" for i in range(len(ir)))
    return render("qhybrid_hard.c.tmpl", NAME=name, UNAME=name.upper(), N_MEMBERS=len(ir),
                  WEIGHTS=", ".join(f"{int(w)}u" for w in ir.weights), CALL_PREDICTS=calls)


def emit_qhybrid(ir: QHybridIR, name: str, layout: str = "table") -> CSource:
    """``layout`` "speed": members whose kind has the speed layout (quantized forests) use it."""
    files, member_headers, _ = member_sources(ir, name, layout)  # type: ignore[arg-type]
    includes = "".join(f'#include "{h}"\n' for h in (*member_headers, *RUNTIME))
    body = soft_body(ir, name) if ir.vote == "soft" else hard_body(ir, name)
    kinds = ", ".join(f"m{i}: {m.meta.estimator} ({m.kind})" for i, m in enumerate(ir.members))
    wts = ", ".join(str(int(w)) for w in ir.weights)
    files[f"{name}.c"] = render("qhybrid.c.tmpl", NAME=name, UNAME=name.upper(),
                                VERSION=__version__, ESTIMATOR=ir.meta.estimator, MODE=ir.mode,
                                VOTE=ir.vote, N_MEMBERS=len(ir), INCLUDES=includes,
                                N_CLASSES=ir.meta.n_classes, BODY=body)
    rule = ("predict_proba: S_c / (65536 * sum of weights), S_c = sum of weight *\n * "
            "floor(member numerator * 65536 / member denominator) (Q16); predict: first "
            "arg-max of S." if ir.vote == "soft" else
            "predict: integer weighted vote counts (sklearn's rule); predict_proba: zeros.")
    doc = (f" * Quantized {ir.mode} {ir.vote} voting over {len(ir)} quantized members "
           f"({kinds});\n * integer weights {wts}. {rule}")
    files[f"{name}.h"] = header(ir.meta, name, f"{layout}, quantized {ir.mode}",
                                guarantee="reference", doc=doc,
                                decls=f'\n#define {name.upper()}_QUANTIZE "{ir.mode}"\n')
    for fname, text in runtime_files(RUNTIME).items():
        files.setdefault(fname, text)
    notes = (f"quantized {ir.mode} {ir.vote} vote, integer weights {wts}: {kinds}",)
    return CSource(name=name, files=files, n_features=ir.meta.n_features,
                   n_classes=ir.meta.n_classes, backend=layout, notes=notes,
                   guarantee="reference")


def emit_qhybrid_speed(ir: QHybridIR, name: str) -> CSource:
    return emit_qhybrid(ir, name, "speed")

