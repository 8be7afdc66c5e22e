"""`tinycodegen search`: Pareto front, winner under budget, cache, time budget, and a run on a
real Dask cluster (a scheduler and two workers as separate processes on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tinycodegen.cli import main
from tinycodegen.search.run import Budget, choose, pareto_front

ARGS = ["--target", "cortex-m0plus", "--max-flash", "16384", "--max-cycles", "20000",
        "--families", "DecisionTree,LogisticRegression", "--quantize", "none,int8",
        "--optimize", "none,speed", "--train-rows", "3000", "--val-rows", "2000",
        "--measure-rows", "8", "--json"]
# 5 depths x (float, int8) x (table, speed) trees, 3 Cs x (float + int8) logistic regressions
N_CANDIDATES = 26


def test_space_takes_each_layout_of_the_kind_a_tree_compiles_to() -> None:
    from sklearn.tree import DecisionTreeClassifier

    from tinycodegen.families.registry import native_backends
    from tinycodegen.lower import load_quantized
    from tinycodegen.search.space import TREE_KINDS, default_space, tree_layouts

    tree = DecisionTreeClassifier(max_depth=2, random_state=0).fit([[0.0], [1.0], [2.0]],
                                                                   [0, 1, 0])
    for q, key in (("none", "none"), ("int8", "quantized"), ("int16", "quantized")):
        kind = load_quantized(tree, None if q == "none" else q).kind
        assert kind == TREE_KINDS[key]
        assert set(tree_layouts(q)) == {"none"} | (set(native_backends(kind)) & {"speed", "size"})
    assert tree_layouts("int8") == ("none", "speed") and tree_layouts("none")[1:] == (
        "speed", "size")
    space = default_space()
    assert len(space) == 149  # README: 17 tree grids x 7 (3 float + 2 x 2 quantized layouts),
    # 10 other grids x 3 quantizations
    assert {(c.quantize, c.optimize) for c in space if c.family == "RandomForest"} == {
        ("none", "none"), ("none", "speed"), ("none", "size"), ("int16", "none"),
        ("int16", "speed"), ("int8", "none"), ("int8", "speed")}
    assert default_space(("DecisionTree",), ("int8",), ("none",)) == [
        c for c in space if c.family == "DecisionTree" and c.quantize == "int8"
        and c.optimize == "none"]


def _r(acc: float, flash: int, cycles: float, **kw: object) -> dict:
    return {"validation": {"accuracy": acc}, "flash": flash, "cycles": cycles, "ram": 0,
            "fits": True, **kw}


def test_pareto_front_and_winner_rules() -> None:
    a, b, c = _r(0.90, 1000, 500), _r(0.95, 4000, 400), _r(0.97, 9000, 900)
    dominated = _r(0.89, 2000, 600)  # a beats it on all three
    tie = _r(0.95, 4000, 400)  # equal to b: neither dominates
    broken = {"error": "boom"}
    front = pareto_front([a, b, c, dominated, tie, broken])
    assert dominated not in front and broken not in front
    assert [r["validation"]["accuracy"] for r in front] == [0.90, 0.95, 0.95, 0.97]
    assert choose([a, b, c], Budget("cortex-m0plus", max_flash=5000)) is b
    assert choose([a, b, c], Budget("cortex-m0plus", max_cycles=450)) is b
    assert choose([a, b, c], Budget("cortex-m0plus", max_flash=500)) is None
    assert choose([a, dict(c, fits=False)], Budget("cortex-m0plus")) is a


def _search(tmp: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict]:
    code = main(["search", *ARGS, "--out", str(tmp), *extra])
    out = capsys.readouterr().out.strip().splitlines()[-1]
    return code, json.loads(out)


def _check_result(obj: dict, out: Path) -> None:
    front = obj["pareto"]
    assert len(front) >= 3
    keys = [(-r["validation"]["accuracy"], r["flash"], r["cycles"]) for r in front]
    for i, ka in enumerate(keys):  # non-dominated: nobody is at least as good everywhere
        for j, kb in enumerate(keys):
            assert i == j or not (all(x <= y for x, y in zip(kb, ka, strict=True)) and kb != ka)
    w = obj["winner"]
    assert w["flash"] <= 16384 and w["cycles"] <= 20000
    assert w["test_parity"]["mismatches"] == 0 and w["test_parity"]["rows"] == 22544
    assert 0.5 < w["test"]["accuracy"] < 1
    assert any((out / "best_model").rglob("best_model.c"))
    assert (out / "pareto.png").stat().st_size > 1000
    assert obj["budget"] == {"target": "cortex-m0plus", "max_flash": 16384, "max_ram": None,
                             "max_cycles": 20000.0}


def test_local_search_front_winner_cache_and_time_budget(tmp_path, capsys) -> None:
    code, obj = _search(tmp_path / "s", capsys, "--jobs", "2", "--format", "cmake")
    assert code == 0 and obj["scheduler"] is None and obj["from_cache"] == 0
    _check_result(obj, tmp_path / "s")
    assert (tmp_path / "s" / "best_model" / "CMakeLists.txt").is_file()
    layouts = {r["optimize"] for r in json.loads((tmp_path / "s" / "search.json").read_text())[
        "pareto"]}
    assert layouts <= {"none", "speed"}
    assert all(r["worker"].startswith("local:") for r in obj["pareto"])
    code, again = _search(tmp_path / "s", capsys)  # resumed: everything from the cache
    assert code == 0 and again["from_cache"] == again["candidates"] == N_CANDIDATES
    assert again["winner"]["label"] == obj["winner"]["label"]
    code, cut = _search(tmp_path / "t", capsys, "--time-budget", "0", "--jobs", "1")
    assert cut["not_run"] >= 1 and cut["candidates"] < N_CANDIDATES


def _start(args: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", *args], stdout=log.open("w"),
                            stderr=subprocess.STDOUT, env=dict(os.environ))


def test_search_on_a_dask_cluster(tmp_path, capsys) -> None:
    sched_file = tmp_path / "scheduler.json"
    procs = [_start(["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                     "--no-dashboard", "--scheduler-file", str(sched_file)],
                    tmp_path / "scheduler.log")]
    try:
        for _ in range(200):
            if sched_file.is_file() and sched_file.stat().st_size:
                break
            time.sleep(0.1)
        address = json.loads(sched_file.read_text())["address"]
        for i in range(2):
            procs.append(_start(["distributed.cli.dask_worker", address, "--nworkers", "1",
                                 "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1",
                                 "--name", f"w{i}"], tmp_path / f"worker{i}.log"))
        from distributed import Client

        with Client(address, timeout="20s") as client:
            client.wait_for_workers(2, timeout=60)
            workers = set(client.scheduler_info()["workers"])
        code, obj = _search(tmp_path / "d", capsys, "--scheduler", address)
        assert code == 0 and obj["scheduler"] == address
        _check_result(obj, tmp_path / "d")
        ran = {r["worker"] for r in obj["pareto"]}
        assert ran <= workers, (ran, workers)
        res = json.loads((tmp_path / "d" / "search.json").read_text())
        assert res["candidates"] == N_CANDIDATES
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
