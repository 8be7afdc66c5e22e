"""The search: candidates run in parallel (joblib on the local cores, or a Dask cluster), results
cached per candidate (a re-run resumes), the Pareto front of validation accuracy against flash and
cycles, the winner under the budget, evaluated once on the test set and written as C."""

from __future__ import annotations

import hashlib
import json
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tinycodegen.errors import TinycodegenError
from tinycodegen.search.evaluate import SearchData, evaluate, fit
from tinycodegen.search.space import Candidate


@dataclass(frozen=True)
class Budget:
    target: str
    max_flash: int | None = None
    max_ram: int | None = None
    max_cycles: float | None = None  # mean cycles per inference over the measured rows

    def admits(self, r: dict[str, Any]) -> bool:
        if r.get("error") or not r.get("fits", True):
            return False
        return all(lim is None or (r.get(key) is not None and r[key] <= lim)
                   for key, lim in (("flash", self.max_flash), ("ram", self.max_ram),
                                    ("cycles", self.max_cycles)))


@dataclass
class SearchResult:
    budget: Budget
    results: list[dict[str, Any]]
    pareto: list[dict[str, Any]]
    winner: dict[str, Any] | None
    scheduler: str | None
    data_note: str
    skipped: int = 0  # candidates not run (time budget)
    cached: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"pareto": self.pareto, "winner": self.winner,
                "budget": {"target": self.budget.target, "max_flash": self.budget.max_flash,
                           "max_ram": self.budget.max_ram, "max_cycles": self.budget.max_cycles},
                "scheduler": self.scheduler, "validation": self.data_note,
                "candidates": len(self.results), "from_cache": self.cached,
                "not_run": self.skipped}


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def nsl_kdd_data(seed: int, train_rows: int | None, val_rows: int | None) -> SearchData:
    """KDDTrain+ split 80/20 (stratified, seeded): the search trains on the 80% (optionally a
    stratified subsample) and ranks on the 20%; KDDTest+ is kept for the winner alone."""
    from sklearn.model_selection import train_test_split

    from tinycodegen.datasets import nsl_kdd

    ds = nsl_kdd.load("train")
    idx = np.arange(len(ds.y))
    tr, va = train_test_split(idx, test_size=0.2, stratify=ds.y, random_state=seed)
    if train_rows is not None and train_rows < len(tr):
        tr, _ = train_test_split(tr, train_size=train_rows, stratify=ds.y[tr], random_state=seed)
    if val_rows is not None and val_rows < len(va):
        va, _ = train_test_split(va, train_size=val_rows, stratify=ds.y[va], random_state=seed)
    tr, va = np.sort(tr), np.sort(va)
    note = (f"trained on {len(tr):,} rows of KDDTrain+'s 80% split, ranked on {len(va):,} rows "
            f"of its held-out 20% (stratified, seed {seed}); KDDTest+ is used once, for the winner")
    return SearchData(ds.X[tr], ds.y[tr], ds.X[va], ds.y[va], note)


def pareto_front(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Results no other result beats on validation accuracy, flash and mean cycles at once."""
    ok = [r for r in results if not r.get("error") and r.get("flash") is not None
          and r.get("cycles") is not None]

    def dominates(a: dict[str, Any], b: dict[str, Any]) -> bool:
        ka = (-a["validation"]["accuracy"], a["flash"], a["cycles"])
        kb = (-b["validation"]["accuracy"], b["flash"], b["cycles"])
        return all(x <= y for x, y in zip(ka, kb, strict=True)) and ka != kb

    front = [r for r in ok if not any(dominates(o, r) for o in ok)]
    return sorted(front, key=lambda r: (r["flash"], r["cycles"]))


def choose(results: list[dict[str, Any]], budget: Budget) -> dict[str, Any] | None:
    fit_ = [r for r in results if budget.admits(r)]
    if not fit_:
        return None
    return min(fit_, key=lambda r: (-r["validation"]["accuracy"], r["flash"], r["cycles"]))


def _cache_key(data: SearchData, target: str, measure_rows: int) -> str:
    import sklearn

    import tinycodegen

    h = hashlib.sha256()
    for a in (data.X_train, data.y_train, data.X_val, data.y_val):
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(f"{target}|{measure_rows}|{sklearn.__version__}|{tinycodegen.__version__}".encode())
    return h.hexdigest()[:12]


def _run_local(todo: list[Candidate], data: SearchData, target: str, measure_rows: int,
               jobs: int) -> Iterator[dict[str, Any]]:
    from joblib import Parallel, delayed

    par = Parallel(n_jobs=jobs, return_as="generator_unordered")
    yield from par(delayed(evaluate)(c, data, target, measure_rows) for c in todo)


def _run_dask(todo: list[Candidate], data: SearchData, target: str, measure_rows: int,
              scheduler: str) -> Iterator[dict[str, Any]]:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise TinycodegenError("--scheduler needs dask.distributed: pip install "
                               "'dask[distributed]'") from None
    try:
        client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise TinycodegenError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    try:
        shared = client.scatter(data, broadcast=True)
        futures = [client.submit(evaluate, c, shared, target, measure_rows, pure=False)
                   for c in todo]
        try:
            for fut in as_completed(futures):
                yield fut.result()
        finally:
            client.cancel(futures)
    finally:
        client.close()


def run_search(space: list[Candidate], budget: Budget, out: Path, *, data: SearchData,
               measure_rows: int = 64, jobs: int = -1, scheduler: str | None = None,
               time_budget: float | None = None) -> SearchResult:
    """Evaluate every candidate not already cached under ``out/cache`` (in parallel), then rank.
    Stops starting new work once ``time_budget`` seconds have passed (the rest are not run)."""
    cache = out / "cache" / _cache_key(data, budget.target, measure_rows)
    cache.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, Any]] = []
    todo: list[Candidate] = []
    for c in space:
        f = cache / f"{c.key()}.json"
        if f.is_file():
            results.append(json.loads(f.read_text()))
        else:
            todo.append(c)
    cached = len(results)
    where = f"Dask scheduler {scheduler}" if scheduler else "local cores (joblib)"
    say(f"search: {len(space)} candidates, {cached} from cache, {len(todo)} to run on {where}")
    t0 = time.perf_counter()
    run = (_run_dask(todo, data, budget.target, measure_rows, scheduler) if scheduler
           else _run_local(todo, data, budget.target, measure_rows, jobs))
    done = 0
    warnings.filterwarnings("ignore", message=".*tasks have been successfully executed",
                            category=UserWarning)  # joblib, when the time budget stops it
    for r in run:
        done += 1
        model = r.pop("_fitted", None)
        key = Candidate.from_result(r).key()
        if model is not None:
            import joblib

            joblib.dump(model, cache / f"{key}.joblib")
        (cache / f"{key}.json").write_text(json.dumps(r, indent=1, default=float))
        results.append(r)
        say(_progress_line(done, len(todo), r, time.perf_counter() - t0))
        if time_budget is not None and time.perf_counter() - t0 > time_budget:
            say(f"search: time budget of {time_budget:.0f} s spent; "
                f"{len(todo) - done} candidates not run")
            break
    run.close()
    front = pareto_front(results)
    winner = choose(results, budget)
    return SearchResult(budget, results, front, winner, scheduler, data.note,
                        skipped=len(todo) - done, cached=cached,
                        extra={"cache": str(cache)})


def _progress_line(done: int, total: int, r: dict[str, Any], elapsed: float) -> str:
    filled = int(20 * done / max(total, 1))
    head = f"[{'#' * filled}{'.' * (20 - filled)}] {done}/{total} {elapsed:.0f}s {r['label']}"
    if r.get("error"):
        return f"{head}: {r['error']}"
    return (f"{head}: accuracy {r['validation']['accuracy']:.4f}, flash {r['flash']:,} B, "
            f"{r['cycles']:,.0f} cycles ({r['worker']})")


def load_winner_model(res: SearchResult) -> Any:
    """The winner's fitted model, from the cache (else refitted: training is seeded)."""
    import joblib

    w = res.winner
    assert w is not None
    key = Candidate.from_result(w).key()
    path = Path(res.extra["cache"]) / f"{key}.joblib"
    return joblib.load(path) if path.is_file() else None


def refit(res: SearchResult, data: SearchData) -> Any:
    w = res.winner
    assert w is not None
    return fit(Candidate.from_result(w), data.X_train, data.y_train)
