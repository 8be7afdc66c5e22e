"""The study's report folder: report.md, results.json and figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from tinycodegen.study.figures import write_figures
from tinycodegen.study.metrics import METRICS, losses


def _f(v: Any, digits: int = 4) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "—"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return cell(str(v))


def cell(text: str, limit: int = 300) -> str:
    """One Markdown table cell: no newlines or pipes, long tool messages shortened."""
    flat = " ".join(text.replace("|", "/").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def metric_table(results: list, split: str, loss: bool = False) -> str:
    head = ["model", *METRICS, "equal to sklearn"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        m = r.metrics.get(split)
        if m is None:
            rows.append(f"| {r.spec.name} | " + " | ".join(["—"] * len(METRICS)) +
                        f" | not compiled: {cell(str(r.error))} |")
            continue
        sk = r.sklearn_metrics[split]
        same = all(np.isclose(m[k], sk[k], rtol=0, atol=0) or (np.isnan(m[k]) and np.isnan(sk[k]))
                   for k in METRICS if k != "roc_auc")
        vals = losses(m) if loss else m
        note = "yes" if same else f"no (sklearn accuracy {sk['accuracy']:.4f})"
        rows.append(f"| {r.spec.name} | " + " | ".join(_f(vals[k]) for k in METRICS) +
                    f" | {note} |")
    return "\n".join(rows)


def model_table(results: list) -> str:
    head = ["model", "parity (C vs sklearn, KDDTest+)", "C vs own reference", "flash M4F",
            "RAM M4F", "stack M4F", "cycles M4F mean/max", "cycles M0+ mean/max", "train s",
            "compile s", "notes"]
    uno = any("atmega328p" in r.targets for r in results)
    if uno:
        head[8:8] = ["flash / RAM / stack Uno", "cycles Uno mean/max"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        p = r.parity
        m4 = r.targets.get("cortex-m4f", {})
        m0 = r.targets.get("cortex-m0plus", {})
        avr = r.targets.get("atmega328p", {})
        parity = "—" if not p else f"{p['mismatches']:,} of {p['rows']:,}"
        ref = "—" if not p or p.get("reference_mismatches") is None else \
            f"{p['reference_mismatches']:,}"
        per_target = [f"{label}: {t[key]}" for label, t in (("M4F", m4), ("M0+", m0), ("Uno", avr))
                      for key in ("error", "sample_note", "fit_note") if t and t.get(key)]
        layout = f"--optimize {r.spec.optimize}" if r.spec.optimize else ""
        notes = "; ".join(x for x in (r.spec.note, layout, r.error, *per_target) if x)
        if any(t and t.get("agrees_with_host") is False for t in (m4, m0, avr)):
            notes += "; EMULATOR DISAGREES WITH HOST C"
        uno_cells = [
            f"{_f(avr.get('flash'))} / {_f(avr.get('ram'))} / {_f(avr.get('stack'))}",
            f"{_f(avr.get('cycles_mean'), 0)} / {_f(avr.get('cycles_max'))}"] if uno else []
        rows.append("| " + " | ".join([
            r.spec.name, parity, ref, _f(m4.get("flash")), _f(m4.get("ram")),
            _f(m4.get("stack")),
            f"{_f(m4.get('cycles_mean'), 0)} / {_f(m4.get('cycles_max'))}",
            f"{_f(m0.get('cycles_mean'), 0)} / {_f(m0.get('cycles_max'))}", *uno_cells,
            "—" if r.train_s is None else f"{r.train_s:.1f}", f"{r.compile_s:.1f}",
            cell(notes) or "—"]) + " |")
    return "\n".join(rows)


def tiny_table(results: list) -> str:
    by = {(r.spec.family, r.spec.tiny): r for r in results}
    head = ["family", "flash tiny/full (M4F, target <= 0.25)",
            "accuracy full - tiny (KDDTest+, target <= 1 pp)", "cycles M0+ tiny/full (<= 0.25)"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    why: list[str] = []
    for fam in dict.fromkeys(r.spec.family for r in results):
        full, tiny = by.get((fam, False)), by.get((fam, True))
        if not full or not tiny:
            continue

        def ratio(target: str, key: str, full=full, tiny=tiny) -> str:
            a = full.targets.get(target, {}).get(key)
            b = tiny.targets.get(target, {}).get(key)
            if not a or not b:
                return "—"
            q = b / a
            return f"{q:.2f} ({'met' if q <= 0.25 else f'missed by {q - 0.25:.2f}'})"

        acc = "—"
        if "KDDTest+" in full.metrics and "KDDTest+" in tiny.metrics:
            d = 100 * (full.metrics["KDDTest+"]["accuracy"] - tiny.metrics["KDDTest+"]["accuracy"])
            acc = f"{d:+.2f} pp ({'met' if d <= 1.0 else f'missed by {d - 1.0:.2f} pp'})"
        rows.append(f"| {fam} | {ratio('cortex-m4f', 'flash')} | {acc} | "
                    f"{ratio('cortex-m0plus', 'cycles_mean')} |")
        line = " ".join(rows[-1].split("|")[2:])
        if "missed" in line and tiny.spec.miss_note:
            why.append(f"- {fam}: {tiny.spec.miss_note}")
    if why:
        rows += ["", "Why a target is missed:", "", *why]
    return "\n".join(rows)


def m2cgen_table(results: list) -> str:
    """Boosted trees: tinycodegen's C against m2cgen's for the same model (KDDTest+)."""
    head = ["model", "C", "predict mismatches", "proba mismatches", "flash M4F",
            "cycles M4F mean (rows)", "flash M0+", "cycles M0+ mean (rows)"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def cyc(t: dict[str, Any]) -> str:
        mean = t.get("cycles_mean")
        return "—" if mean is None else f"{mean:,.0f} ({t.get('rows', 0):,})"

    for r in results:
        if not r.spec.m2cgen or not r.parity:
            continue
        for tool, parity, targets, error in (
                (f"tinycodegen {r.spec.quantize or ''}".strip(), r.parity, r.targets, None),
                ("m2cgen", r.m2cgen.get("parity"), r.m2cgen.get("targets", {}),
                 r.m2cgen.get("error"))):
            if error:
                rows.append(f"| {r.spec.name} | {tool} | cannot convert: {cell(error)} |"
                            + " |" * (len(head) - 3))
                continue
            if parity is None:
                continue
            m4, m0 = targets.get("cortex-m4f", {}), targets.get("cortex-m0plus", {})
            predict, proba = f"{parity['mismatches']:,} of {parity['rows']:,}", \
                _f(parity.get("proba_mismatches"))
            if parity.get("quantize"):  # its own reference is what it promises
                predict += f" ({parity['reference_mismatches']:,} vs its reference)"
                proba = f"n/a ({parity['quantize']})"
            rows.append("| " + " | ".join([
                r.spec.name, tool, predict, proba, _f(m4.get("flash")), cyc(m4),
                _f(m0.get("flash")), cyc(m0)]) + " |")
    return "\n".join(rows) if len(rows) > 2 else ""


def detector_sentence(results: list) -> list[str]:
    """One sentence on the unsupervised half against the supervised models (KDDTest+)."""
    split = "KDDTest+"
    done = [r for r in results if split in r.metrics]
    det = [r for r in done if r.spec.detector]
    sup = [r for r in done if not r.spec.detector]
    if not det or not sup:
        return []
    d = max(det, key=lambda r: r.metrics[split]["recall"])
    s = max(sup, key=lambda r: r.metrics[split]["recall"])
    dm, sm = d.metrics[split], s.metrics[split]
    higher = dm["recall"] > sm["recall"]
    why = (": KDDTest+ holds attack types absent from KDDTrain+, which a detector of the "
           "unusual still catches" if higher else "")
    return [f"**Unsupervised vs supervised ({split}):** trained on normal traffic only, "
            f"{d.spec.name} flags {100 * dm['recall']:.1f}% of the attacks at "
            f"{100 * dm['fpr']:.1f}% FPR, a {'higher' if higher else 'lower'} attack recall than "
            f"the best supervised model ({s.spec.name}: {100 * sm['recall']:.1f}% at "
            f"{100 * sm['fpr']:.1f}% FPR){why}.", ""]


def write_study(results: list, out: Path, meta: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    splits = list(dict.fromkeys(s for r in results for s in r.metrics))
    figs = write_figures(results, out, splits)
    md = [f"# NSL-KDD study: {len(results)} models compiled to C", "",
          "Every metric below is computed from the compiled C's outputs (predict for the class, "
          "predict_proba or the decision value for ROC AUC); the last column says whether it "
          "equals sklearn's. Binary task: normal = 0, attack = 1 (positive).", ""]
    if meta.get("limit"):
        md += [f"**Subsampled run:** every data set limited to {meta['limit']:,} rows.", ""]
    for split in splits:
        md += [f"## {split}", "", metric_table(results, split), "", "Loss (1 - score; FPR as "
               "itself):", "", metric_table(results, split, loss=True), ""]
    md += ["A random 80/20 split of KDDTrain+ puts near-duplicate connections on both sides: it "
           "scores ~0.98-1.00 and says little about new traffic. KDDTest+ and KDDTest-21 hold "
           "attack types never seen in training.", "",
           *detector_sentence(results),
           "## Per model: parity, flash, RAM, cycles, times", "", model_table(results), "",
           "## Tiny models against their targets", "", tiny_table(results), "",
           *_m2cgen_section(results),
           "## Figures", ""]
    md += [f"![{p.stem}]({p.name})" for p in figs]
    rows = (f"a seeded stratified sample of {meta['measure_rows']:,} KDDTest+ rows"
            if meta.get("measure_rows") else "all KDDTest+ rows")
    budget = (f"; where a model would emulate more than {meta['budget']:,} instructions, a "
              "fixed stratified prefix of them (its notes give the rows measured)"
              if meta.get("budget") else "")
    md += ["", f"Run: seed {meta['seed']}, {meta['seconds']:.0f} s; MCU figures over {rows}"
           f"{budget}."]
    (out / "report.md").write_text("\n".join(md) + "\n")
    payload = {"meta": meta, "models": [_result_dict(r) for r in results]}
    (out / "results.json").write_text(json.dumps(payload, indent=2, default=_json_default))


def _m2cgen_section(results: list) -> list[str]:
    table = m2cgen_table(results)
    if not table:
        return []
    return ["## Boosted trees against m2cgen", "",
            "The same fitted model through the comparison backend `m2cgen` (m2cgen's C, double "
            "arithmetic, wrapped in the C contract; guarantee \"none\"; for a tiny model, its "
            "float model): mismatches with the "
            "library's predict / predict_proba (float32) on KDDTest+; flash, and mean cycles "
            "over the rows in brackets (where the instruction budget stops a build, a prefix of "
            "the same seeded stratified order).", "", table, ""]


def _result_dict(r: Any) -> dict[str, Any]:
    return {"name": r.spec.name, "family": r.spec.family, "tiny": r.spec.tiny,
            "detector": r.spec.detector,
            "quantize": r.spec.quantize, "optimize": r.spec.optimize, "note": r.spec.note,
            "error": r.error,
            "train_s": r.train_s, "compile_s": r.compile_s, "parity": r.parity,
            "metrics_c": r.metrics, "metrics_sklearn": r.sklearn_metrics, "targets": r.targets,
            "m2cgen": r.m2cgen}


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer | np.floating):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
