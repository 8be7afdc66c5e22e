"""Which rows an MCU measurement runs: all, a fixed sample, or a prefix within a budget.

An instruction budget keeps slow soft-float builds affordable without making the figures
depend on the machine's speed: the rows are put in a fixed, seeded order whose every prefix
is stratified by host-predicted class, and are emulated in growing chunks until the executed
instructions reach the budget. The instruction counts are exact, so the same binary, rows,
seed and budget always measure the same prefix.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tinycodegen.errors import TinycodegenError
from tinycodegen.targets.emulate import Emulator, RunResult
from tinycodegen.targets.sampling import stratified_sample

FIRST_CHUNK = 4
Progress = Callable[[int, int], None]


def stratified_order(labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """Every row index once, ordered so that each prefix holds the labels in proportion."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    keys = np.empty(labels.shape[0], dtype=np.float64)
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        keys[idx] = (np.arange(idx.size) + 0.5) / idx.size
    return np.lexsort((np.arange(labels.shape[0]), keys))


def host_labels(c_dir: Path, name: str, X: np.ndarray, cache: Path) -> tuple[np.ndarray, str]:
    from tinycodegen.targets.host import build_host, host_outputs

    try:
        return host_outputs(build_host(c_dir, name, cache), X), "stratified by host-predicted class"
    except (TinycodegenError, OSError):  # no host compiler: plain seeded order
        return np.zeros(len(X), dtype=np.int32), "uniform (no host compiler to stratify)"


def _labels(c_dir: Path, name: str, X: np.ndarray, cache: Path,
            labels: np.ndarray | None) -> tuple[np.ndarray, str]:
    if labels is not None and len(labels) == len(X):
        return np.asarray(labels), "stratified by host-predicted class"
    return host_labels(c_dir, name, X, cache)


def sample(
    c_dir: Path, name: str, X: np.ndarray, k: int | None, cache: Path, seed: int,
    labels: np.ndarray | None = None,
) -> tuple[np.ndarray | None, str | None]:
    """(row indices or None, note): a fixed seeded sample of ``k`` rows."""
    if k is None or k >= len(X):
        return None, None
    labels, how = _labels(c_dir, name, X, cache, labels)
    idx = stratified_sample(labels, k, seed)
    return idx, f"sample of {idx.size} of {len(X)} rows ({how}, seed {seed})"


def _concat(parts: list[RunResult]) -> RunResult:
    return RunResult(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                       ("instructions", "base_cycles", "refills", "outputs")))


def _take(res: RunResult, perm: np.ndarray) -> RunResult:
    return RunResult(res.instructions[perm], res.base_cycles[perm], res.refills[perm],
                     res.outputs[perm])


def run_rows(
    em: Emulator, c_dir: Path, name: str, X: np.ndarray, *, function: str, n_out: int,
    cache: Path, seed: int, max_rows: int | None, budget: int | None,
    progress: Progress | None = None, labels: np.ndarray | None = None,
) -> tuple[RunResult, np.ndarray | None, str | None]:
    """Emulate ``function`` on the chosen rows: (results in row order, indices or None, note).

    Without ``budget``: every row, or the fixed sample of ``max_rows``. With ``budget``
    (instructions): the shortest prefix of the stratified order whose instructions reach it
    (at most ``max_rows`` rows), at least ``FIRST_CHUNK`` rows. ``labels``: the host C's
    class per row of X when the caller has them (else the host build is run to get them).
    """
    if budget is None:
        idx, note = sample(c_dir, name, X, max_rows, cache, seed, labels)
        rows = X if idx is None else X[idx]
        res = em.run(rows, function, n_out=n_out)
        em.shrink()
        if progress:
            progress(len(rows), len(rows))
        return res, idx, note
    labels, how = _labels(c_dir, name, X, cache, labels)
    limit = len(X) if max_rows is None else min(max_rows, len(X))
    order = stratified_order(labels, seed)[:limit]
    parts: list[RunResult] = []
    done, used, chunk = 0, 0, FIRST_CHUNK
    while done < limit and used < budget:
        take = order[done : done + chunk]
        part = em.run(X[take], function, n_out=n_out, keep_counts=done > 0)
        parts.append(part)
        done += take.size
        used += int(part.instructions.sum())
        if progress:
            progress(done, limit)
        mean = used / done
        chunk = max(1, min(math.ceil((budget - used) / max(mean, 1.0)), max(done, FIRST_CHUNK)))
    em.shrink()
    res = _concat(parts)
    if done == len(X):
        return _take(res, np.argsort(order)), None, None
    perm = np.argsort(order[:done])
    idx = order[:done][perm]
    note = (f"sample of {done} of {len(X)} rows (prefix of a seeded order {how}, seed {seed}; "
            f"{getattr(em, 'budget_unit', 'instruction')} budget {budget:,})")
    return _take(res, perm), idx.astype(np.int64), note
