"""benchmarks/bench_targets.py and the report's goals: ratios from measured numbers."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from tinycodegen.report.collect import ReportRow
from tinycodegen.report.goals import judge

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_targets  # noqa: E402

needs_mcu = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None or importlib.util.find_spec("unicorn") is None,
    reason="needs arm-none-eabi-gcc (Debian gcc-arm-none-eabi) and unicorn (PyPI)",
)


def _row(backend: str, flash: int | None, cycles: float | None, mm: int | None = 0,
         note: str | None = None) -> ReportRow:
    return ReportRow(model="m", estimator="X", backend=backend, target="cortex-m4f",
                     mismatches=mm, flash_bytes=flash, cycles_mean=cycles, note=note,
                     emulator_agrees=None if flash is None else True)


def test_goals_say_by_how_much_a_target_is_missed() -> None:
    rows = [_row("table", 500, 700.0), _row("m2cgen", 800, 2000.0, mm=0),
            _row("emlearn", 600, 900.0, mm=3)]
    goals = {g.goal: g for g in judge(rows)}
    vs_m2c = goals["flash <= 0.5x m2cgen"]
    assert vs_m2c.ratio == pytest.approx(500 / 800) and vs_m2c.met is False
    assert vs_m2c.status() == "MISSED by 100 bytes (25% over the limit 400)"
    assert goals["flash <= emlearn"].met is True
    assert goals["flash <= emlearn"].ratio == pytest.approx(500 / 600)
    cyc = goals["mean cycles <= 0.7x fastest anchor"]
    assert cyc.anchor == "emlearn" and cyc.ratio == pytest.approx(700 / 900)
    assert cyc.status() == "MISSED by 70 cycles (11% over the limit 630)"
    assert goals["0 mismatches"].met is True


def test_goal_is_na_with_the_reason_when_an_anchor_cannot_take_the_model() -> None:
    rows = [_row("table", 500, 700.0), _row("emlearn", None, None, mm=None,
                                             note="n/a: emlearn cannot convert LinearSVC"),
            _row("m2cgen", 1200, 1100.0)]
    goals = {g.goal: g for g in judge(rows)}
    assert goals["flash <= emlearn"].met is None
    assert "emlearn cannot convert LinearSVC" in goals["flash <= emlearn"].status()
    assert goals["flash <= 0.5x m2cgen"].met is True
    cyc = goals["mean cycles <= 0.7x fastest anchor"]
    assert cyc.anchor == "m2cgen" and cyc.met is True


@needs_mcu
def test_bench_table_ratios_come_from_the_measured_numbers() -> None:
    from sklearn.tree import DecisionTreeClassifier

    from tinycodegen.report.collect import collect

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] * X[:, 2] > 0).astype(int)
    model = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, y)
    assert bench_targets.backends_for(model) == ("speed", "size", "table", "inline", "emlearn",
                                                 "m2cgen")
    rows = collect([("dt", model)], X, targets=("cortex-m4f",),
                   backends=bench_targets.backends_for(model), budget=None)
    by = {r.backend: r for r in rows}
    assert all(by[b].flash_bytes and by[b].cycles_mean for b in by)
    assert all(r.measured_rows == len(X) and r.emulator_agrees for r in rows)
    goals = judge(rows)
    text = bench_targets.model_table("dt", "cortex-m4f", rows, goals)
    fastest = min((by["emlearn"], by["m2cgen"]), key=lambda r: r.cycles_mean or 0.0)
    for native in ("table", "inline"):
        n = by[native]
        mine = {g.goal: g for g in goals if g.backend == native}
        flash_ratio = n.flash_bytes / by["m2cgen"].flash_bytes
        assert mine["flash <= 0.5x m2cgen"].ratio == pytest.approx(flash_ratio)
        assert mine["flash <= 0.5x m2cgen"].met is (flash_ratio <= 0.5)
        assert f"{flash_ratio:.2f}x ({n.flash_bytes:,} / m2cgen {by['m2cgen'].flash_bytes:,})" \
            in text
        cyc_ratio = n.cycles_mean / fastest.cycles_mean
        cyc = mine["mean cycles <= 0.7x fastest anchor"]
        assert cyc.anchor == fastest.backend and cyc.ratio == pytest.approx(cyc_ratio)
        assert f"{cyc_ratio:.2f}x ({n.cycles_mean:,.0f} / {fastest.backend} " in text
        assert mine["0 mismatches"].met is True
    assert "n/a" not in text


def test_layout_goals_are_against_emlearn_per_target() -> None:
    rows = [_row("speed", 900, 500.0), _row("size", 600, 1000.0), _row("emlearn", 1000, 700.0),
            _row("m2cgen", 3000, 9000.0)]
    goals = {(g.backend, g.goal): g for g in judge(rows)}
    speed = goals[("speed", "mean cycles <= 0.8x emlearn")]
    assert speed.ratio == pytest.approx(500 / 700) and speed.met is True
    assert goals[("size", "flash <= 0.7x emlearn")].met is True
    size_cyc = goals[("size", "mean cycles <= 1.3x emlearn")]
    assert size_cyc.met is False and size_cyc.status().startswith("MISSED by 90 cycles")
    assert ("speed", "flash <= 0.5x m2cgen") not in goals  # layouts: their own goals only
    assert goals[("speed", "0 mismatches")].met is True


def test_host_goal_is_the_default_layouts_ns_against_emlearns() -> None:
    def host(backend: str, ns: float, mm: int = 0) -> ReportRow:
        return ReportRow(model="m", estimator="X", backend=backend, target="host",
                         mismatches=mm, ns_per_inference=ns)

    rows = [host("table", 60.0), host("speed", 40.0), host("emlearn", 50.0, mm=3)]
    goals = {(g.backend, g.goal): g for g in judge(rows)}
    assert set(goals) == {("table", "ns per row <= emlearn"), ("table", "0 mismatches")}
    g = goals[("table", "ns per row <= emlearn")]
    assert (g.value, g.anchor_value, g.met) == (60.0, 50.0, False)
    assert g.ratio == pytest.approx(1.2) and g.status().startswith("MISSED by 10 ns")
    rows[0] = host("table", 45.0)
    assert all(g.met for g in judge(rows))


def test_backends_option_measures_only_those(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="unknown backend"):
        bench_targets.main(["--backends", "size,nope", "--out", str(tmp_path)])
    report, goals, _ = bench_targets.run(("DT-raw",), ("cortex-m4f",), None, 200,
                                         only=("size", "emlearn"))
    assert {r.backend for r in report} == {"size", "emlearn"}
    assert {g.backend for g in goals} == {"size"} and all(r.measured_rows == 200 for r in report)
