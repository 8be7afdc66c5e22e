"""Markdown, JSON and PNG plots of report rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tinycodegen.report.collect import ReportRow

COLUMNS = ("model", "backend", "target", "mismatches", "measured_rows", "flash_bytes", "ram_bytes",
           "stack_bytes", "instr_mean", "instr_max", "cycles_mean", "cycles_max", "cycles_range",
           "ns_per_inference", "emulator_agrees", "note")


def _cell(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:,.1f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    if isinstance(v, tuple | list):
        return "–".join(_cell(x) for x in v)
    return str(v).replace("|", "/")


def _columns(rows: list[ReportRow]) -> tuple[str, ...]:
    """COLUMNS, plus the mismatches against its own reference when a build is quantized."""
    if not any(r.quantize for r in rows):
        return COLUMNS
    at = COLUMNS.index("mismatches") + 1
    return (*COLUMNS[:at], "reference_mismatches", *COLUMNS[at:])


def markdown(rows: list[ReportRow]) -> str:
    columns = _columns(rows)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        lines.append("| " + " | ".join(_cell(getattr(r, "build" if c == "backend" else c))
                                       for c in columns) + " |")
    notes = sorted({f"{r.target}: {r.cycle_model}" for r in rows if r.cycle_model})
    samples = [f"{r.model}/{r.build}/{r.target}: {r.sample_note}" for r in rows
               if r.sample_note]
    out = "\n".join(lines)
    if notes:
        out += "\n\nCycle models:\n" + "\n".join(f"- {n}" for n in notes)
    if samples:
        out += "\n\nSamples:\n" + "\n".join(f"- {s}" for s in samples)
    from tinycodegen.report import goals

    judged = goals.markdown(goals.judge(rows))
    if judged:
        out += ("\n\nGoals against the anchors measured in this run (ratios are native / "
                "anchor):\n\n" + judged)
    invalid = [r for r in rows if r.emulator_agrees is False]
    if invalid:
        out += "\n\n**INVALID:** emulated predictions differ from the host C for: " + ", ".join(
            f"{r.model}/{r.build}/{r.target}" for r in invalid)
    return out


def plots(rows: list[ReportRow], outdir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    targets = sorted({r.target for r in rows if r.flash_bytes and r.cycles_mean})
    for target in targets:
        sel = [r for r in rows if r.target == target and r.flash_bytes and r.cycles_mean]
        fig, ax = plt.subplots(figsize=(7, 5))
        for backend in sorted({r.build for r in sel}):
            pts = [r for r in sel if r.build == backend]
            ax.scatter([r.flash_bytes for r in pts], [r.cycles_mean for r in pts], label=backend)
            for r in pts:
                ax.annotate(r.model, (r.flash_bytes, r.cycles_mean), fontsize=7)
        ax.set(xscale="log", yscale="log", xlabel="flash bytes", ylabel="mean cycles/inference",
               title=f"flash vs cycles on {target}")
        ax.legend()
        path = outdir / f"flash_vs_cycles_{target}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        written.append(path)
    for target in sorted({r.target for r in rows}):
        sel = [r for r in rows if r.target == target and (r.cycles_mean or r.instr_mean)]
        if not sel:
            continue
        fig, ax = plt.subplots(figsize=(max(6, 0.5 * len(sel)), 4))
        vals = [r.cycles_mean or r.instr_mean for r in sel]
        ax.bar(range(len(sel)), vals)
        ax.set_xticks(range(len(sel)), [f"{r.model}\n{r.build}" for r in sel], fontsize=7,
                      rotation=60)
        unit = "cycles" if sel[0].cycles_mean else "instructions"
        ax.set(ylabel=f"mean {unit}/inference", yscale="log", title=target)
        path = outdir / f"bars_{target}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        written.append(path)
    return written


def as_json(rows: list[ReportRow], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    from tinycodegen.report.goals import judge

    return {"meta": meta or {}, "rows": [r.to_dict() for r in rows],
            "goals": [g.to_dict() for g in judge(rows)]}


def write_report(rows: list[ReportRow], outdir: Path, title: str = "tinycodegen report",
                 meta: dict[str, Any] | None = None) -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    md = outdir / "report.md"
    js = outdir / "report.json"
    figs = plots(rows, outdir)
    body = [f"# {title}", "", markdown(rows), ""]
    body += [f"![{p.stem}]({p.name})" for p in figs]
    md.write_text("\n".join(body) + "\n")
    js.write_text(json.dumps(as_json(rows, meta), indent=2, default=str))
    return [md, js, *figs]
