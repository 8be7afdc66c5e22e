"""Figures of the study: metric bars, ROC curves, confusion matrices, flash vs cycles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def write_figures(results: list, out: Path, splits: list[str]) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = [r for r in results if r.metrics]
    paths: list[Path] = []
    if not done:
        return paths
    main = "KDDTest+" if "KDDTest+" in splits else splits[0]
    # bars: accuracy, precision, recall, full vs tiny per family
    fams = list(dict.fromkeys(r.spec.family for r in done))
    fig, axes = plt.subplots(1, 3, figsize=(14, 4), sharey=True)
    for ax, metric in zip(axes, ("accuracy", "precision", "recall"), strict=True):
        for j, tiny in enumerate((False, True)):
            vals = [next((r.metrics[main][metric] for r in done
                          if r.spec.family == f and r.spec.tiny == tiny), np.nan) for f in fams]
            ax.bar(np.arange(len(fams)) + 0.4 * j, vals, width=0.4,
                   label="tiny" if tiny else "full")
        ax.set_xticks(np.arange(len(fams)) + 0.2, fams, rotation=35, ha="right",
                      rotation_mode="anchor", fontsize=8)
        ax.set_title(f"{metric} ({main})")
        ax.set_ylim(0, 1)
    axes[0].legend()
    paths.append(_save(fig, out / "metrics_bars.png"))
    # ROC curves from the C's scores
    from sklearn.metrics import roc_curve

    for split in splits:
        fig, ax = plt.subplots(figsize=(6, 5))
        for r in done:
            o = r.outputs.get(split)
            if o is None or o["score"] is None:
                continue
            y = o["y"]
            fpr, tpr, _ = roc_curve(y, o["score"])
            ax.plot(fpr, tpr, label=f"{r.spec.name} ({r.metrics[split]['roc_auc']:.3f})",
                    linestyle="--" if r.spec.tiny else "-")
        ax.plot([0, 1], [0, 1], color="grey", linewidth=0.5)
        ax.set(xlabel="false-positive rate", ylabel="true-positive rate", title=f"ROC: {split}")
        ax.legend(fontsize=7)
        paths.append(_save(fig, out / f"roc_{_slug(split)}.png"))
    # confusion matrices on the main test set
    cols = 5
    n_rows = (len(done) + cols - 1) // cols
    fig, axes = plt.subplots(n_rows, cols, figsize=(3 * cols, 3 * n_rows), squeeze=False)
    for ax, r in zip(axes.ravel(), done, strict=False):
        m = r.metrics[main]
        cm = np.array([[m["tn"], m["fp"]], [m["fn"], m["tp"]]])
        ax.imshow(cm, cmap="Blues")
        for (i, j), v in np.ndenumerate(cm):
            ax.text(j, i, f"{v:,}", ha="center", va="center", fontsize=8)
        ax.set(title=r.spec.name, xticks=[0, 1], yticks=[0, 1],
               xticklabels=["normal", "attack"], yticklabels=["normal", "attack"])
    for ax in axes.ravel()[len(done):]:
        ax.axis("off")
    paths.append(_save(fig, out / "confusion_matrices.png"))
    # flash vs cycles per target
    for target in ("cortex-m4f", "cortex-m0plus", "atmega328p"):
        pts = [(r.spec.name, r.targets[target]) for r in done
               if r.targets.get(target, {}).get("flash") and
               r.targets[target].get("cycles_mean")]
        if not pts:
            continue
        fig, ax = plt.subplots(figsize=(6, 5))
        for k, (name, t) in enumerate(pts):
            ax.scatter(t["flash"], t["cycles_mean"], marker="s" if "Tiny" in name else "o")
            ax.annotate(name, (t["flash"], t["cycles_mean"]), fontsize=7,
                        xytext=(4, 6 if k % 2 else -10), textcoords="offset points")
        ax.set(xscale="log", yscale="log", xlabel="flash bytes", ylabel="mean cycles",
               title=f"flash vs cycles: {target}")
        _plain_log_ticks(ax)
        paths.append(_save(fig, out / f"flash_vs_cycles_{target}.png"))
    return paths


def _plain_log_ticks(ax: Any) -> None:
    """Log axes labelled 1k, 10k, ... (matplotlib's minor labels overlap on short ranges)."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    def fmt(v: float, _pos: int) -> str:
        return f"{v / 1e6:g}M" if v >= 1e6 else f"{v / 1e3:g}k" if v >= 1e3 else f"{v:g}"

    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(FuncFormatter(fmt))
        axis.set_minor_formatter(NullFormatter())


def _slug(s: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in s.lower()).strip("_")


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
