"""The search's outputs: the winner's C and its one test-set evaluation, the Pareto table and
plot, and the JSON object."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from tinycodegen.search.run import SearchData, SearchResult, load_winner_model, refit, say


def finish_winner(res: SearchResult, data: SearchData, out: Path, name: str,
                  fmt: str = "plain") -> None:
    """Compile the winner, write its C to ``out/name`` (as ``compile --format fmt``), and
    evaluate it once on KDDTest+."""
    import tinycodegen
    from tinycodegen.check import check
    from tinycodegen.datasets import nsl_kdd
    from tinycodegen.study.metrics import binary_metrics
    from tinycodegen.study.run import c_outputs

    w = res.winner
    if w is None:
        return
    model = load_winner_model(res)
    if model is None:
        model = refit(res, data)
    q = None if w["quantize"] == "none" else w["quantize"]
    opt = None if w.get("optimize", "none") == "none" else w["optimize"]
    compiled = tinycodegen.compile(model, name=name, quantize=q, optimize=opt)
    files = compiled.write(out / name, format=fmt)
    test = nsl_kdd.load("test")
    pred, score = c_outputs(compiled, test.X)
    w["test"] = {k: float(v) for k, v in binary_metrics(test.y, pred, score).items()}
    rep = check(compiled, test.X, X_sklearn=test.X.astype(np.float64), data="KDDTest+",
                proba=False)
    # A float model must equal the library; a quantized one its own reference (its difference
    # from the float library model is reported beside it, never hidden).
    w["test_parity"] = {"rows": rep.rows, "ok": rep.ok,
                        "mismatches": rep.reference_mismatches if q else rep.mismatches,
                        "against": "its quantized reference" if q else "the library",
                        "differs_from_library": rep.mismatches}
    w["files"] = [str(f) for f in files]
    say(f"winner {w['label']}: KDDTest+ accuracy {w['test']['accuracy']:.4f}; C in {out / name}")


def _fmt(v: Any, digits: int = 4) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float) and not float(v).is_integer():
        return f"{v:,.{digits}f}" if abs(v) < 10 else f"{v:,.0f}"
    return f"{int(v):,}"


def table(res: SearchResult) -> str:
    b = res.budget
    lim = ", ".join(f"{k} <= {_fmt(v)}" for k, v in (("flash", b.max_flash), ("RAM", b.max_ram),
                                                   ("mean cycles", b.max_cycles)) if v is not None)
    lines = [f"Search on {b.target}, budget: {lim or 'none'}.", "",
             f"Validation: {res.data_note}.", "",
             f"{len(res.results)} candidates ({res.cached} from cache, {res.skipped} not run "
             "within the time budget); the Pareto front of validation accuracy against flash "
             "and mean cycles (winner marked):", "",
             "| | model | params | quantize | layout | accuracy | F1 | FPR | flash B | RAM B | "
             "mean cycles | within budget |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in res.pareto:
        v = r["validation"]
        mark = "**winner**" if res.winner is r else ""
        params = ", ".join(f"{k}={p}" for k, p in r["params"].items())
        layout = {"none": "table"}.get(r.get("optimize", "none"), r.get("optimize"))
        lines.append(f"| {mark} | {r['model']} | {params} | {r['quantize']} | {layout} | "
                     f"{v['accuracy']:.4f} | {v['f1']:.4f} | {v['fpr']:.4f} | {_fmt(r['flash'])} "
                     f"| {_fmt(r['ram'])} | {_fmt(r['cycles'])} | "
                     f"{'yes' if res.budget.admits(r) else 'no'} |")
    w = res.winner
    lines.append("")
    if w is None:
        lines.append("No candidate fits the budget.")
    else:
        lines.append(f"Winner: {w['label']}, validation accuracy {w['validation']['accuracy']:.4f}"
                     f", {_fmt(w['flash'])} B flash, {_fmt(w['ram'])} B RAM, "
                     f"{_fmt(w['cycles'])} mean cycles.")
        if "test" in w:
            t, p = w["test"], w["test_parity"]
            lines.append(
                f"On KDDTest+ (evaluated once): accuracy {t['accuracy']:.4f}, precision "
                f"{t['precision']:.4f}, recall {t['recall']:.4f}, F1 {t['f1']:.4f}, FPR "
                f"{t['fpr']:.4f}, ROC AUC {t['roc_auc']:.4f}; the C differs from "
                f"{p['against']} on {p['mismatches']} of {p['rows']:,} rows"
                + ("" if p["against"] == "the library" else
                   f" and from the float library model on {p['differs_from_library']}") + ".")
    errors = [r for r in res.results if r.get("error")]
    if errors:
        lines += ["", f"{len(errors)} candidates failed:"]
        lines += [f"- {r['label']}: {r['error']}" for r in errors]
    return "\n".join(lines) + "\n"


def plot(res: SearchResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in res.results if not r.get("error") and r.get("flash")]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, key, lim, label in ((axes[0], "flash", res.budget.max_flash, "flash (bytes)"),
                                (axes[1], "cycles", res.budget.max_cycles, "mean cycles")):
        xs = np.array([r[key] for r in ok], dtype=float)
        ys = np.array([r["validation"]["accuracy"] for r in ok])
        ax.scatter(xs, ys, s=14, c="#999999", label="candidates")
        front = [r for r in res.pareto]
        ax.scatter([r[key] for r in front], [r["validation"]["accuracy"] for r in front], s=30,
                   c="#1f77b4", label="Pareto front")
        if res.winner is not None:
            ax.scatter([res.winner[key]], [res.winner["validation"]["accuracy"]], s=120,
                       marker="*", c="#d62728", label="winner", zorder=3)
        if lim is not None:
            ax.axvline(lim, color="#d62728", ls="--", lw=1, label="budget")
        ax.set_xscale("log")
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("validation accuracy")
    axes[0].legend(fontsize=8, loc="lower right")
    fig.suptitle(f"tinycodegen search on {res.budget.target}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_outputs(res: SearchResult, out: Path) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    (out / "search.md").write_text(table(res))
    obj = res.to_json()
    (out / "search.json").write_text(json.dumps(obj, indent=1, default=float))
    plot(res, out / "pareto.png")
    return obj
