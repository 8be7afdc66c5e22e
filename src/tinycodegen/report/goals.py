"""Goals against the anchors measured in the same run, judged from the report rows.

Tree layouts (``speed``, ``size``) are judged against emlearn's float build on the same target
(``LAYOUT_GOALS``: e.g. the speed layout's mean cycles <= 0.8x emlearn's on a Cortex-M4F, the
size layout's flash <= 0.7x emlearn's). Other native backends: flash <= 0.5x m2cgen's, flash <=
emlearn's, mean cycles <= 0.7x the fastest anchor's. Every native row: 0 mismatches against
sklearn with the emulator agreeing with the host C. On the host (no flash or cycles): the
default layout's ns per row <= emlearn's, both timed in the same run. Each goal keeps the two
measured numbers it compares, so its ratio is reproducible from the table, and says by how much
it is missed.

A quantized build (rows labelled "table int8", "speed int16") keeps its layout's flash and cycle
goals (measured numbers against the float anchors' measured numbers), but it promises to equal
its own quantized reference, not sklearn: its parity goal is "0 mismatches vs its reference";
its mismatches against sklearn stay in the report's rows, never judged as if it were exact.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from tinycodegen.report.collect import ReportRow

ANCHORS = ("emlearn", "m2cgen")
FLASH_VS_M2CGEN = 0.5
FLASH_VS_EMLEARN = 1.0
CYCLES_VS_FASTEST = 0.7
DEFAULT_LAYOUT = "table"  # what compile emits without --optimize or --backend
NS_VS_EMLEARN = 1.0  # host: the default layout's ns per row against emlearn's
# (layout, target) -> [(field, limit vs emlearn)]; targets not listed get no layout goal.
LAYOUT_GOALS: dict[tuple[str, str], list[tuple[str, float]]] = {
    ("speed", "cortex-m4f"): [("cycles_mean", 0.8)],
    ("speed", "cortex-m0plus"): [("cycles_mean", 0.35)],
    ("speed", "atmega328p"): [("cycles_mean", 0.5)],
    ("size", "cortex-m4f"): [("flash_bytes", 0.7), ("cycles_mean", 1.3)],
    ("size", "cortex-m0plus"): [("flash_bytes", 0.7)],
    ("size", "atmega328p"): [("flash_bytes", 0.7)],
}
_FIELD = {"cycles_mean": ("mean cycles", "cycles"), "flash_bytes": ("flash", "bytes")}


@dataclass(frozen=True)
class Goal:
    model: str
    target: str
    backend: str  # the native backend judged
    goal: str  # e.g. "flash <= 0.5x m2cgen"
    value: float | None  # native's measured number
    anchor: str | None  # the backend compared with
    anchor_value: float | None
    limit: float | None  # allowed ratio value / anchor_value
    ratio: float | None
    met: bool | None  # None: not measurable in this run (see note)
    note: str = ""
    rows: int | None = None  # rows behind value / anchor_value (samples may differ)
    anchor_rows: int | None = None

    def status(self) -> str:
        if self.met is None:
            return f"n/a ({self.note})" if self.note else "n/a"
        if self.met:
            return "met"
        return f"MISSED by {self.note}"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status()}


def _missed_by(value: float, allowed: float, unit: str) -> str:
    over = value - allowed
    pct = 100.0 * over / allowed if allowed else float("inf")
    return f"{over:,.0f} {unit} ({pct:.0f}% over the limit {allowed:,.0f})"


def _ratio_goal(native: ReportRow, anchor: ReportRow | None, anchor_name: str, field: str,
                limit: float, goal: str, unit: str, why: str) -> Goal:
    value = getattr(native, field)
    base = dict(model=native.model, target=native.target, backend=native.build, goal=goal,
                value=value, limit=limit)
    ref = None if anchor is None else getattr(anchor, field)
    if value is None or ref is None or ref <= 0:
        missing = "native not measured" if value is None else why
        return Goal(**base, anchor=anchor_name, anchor_value=ref, ratio=None, met=None,
                    note=missing)
    ratio = value / ref
    met = ratio <= limit
    note = "" if met else _missed_by(value, limit * ref, unit)
    return Goal(**base, anchor=anchor_name, anchor_value=ref, ratio=ratio, met=met, note=note,
                rows=native.measured_rows, anchor_rows=anchor.measured_rows if anchor else None)


def _why(rows: list[ReportRow], backend: str) -> str:
    for r in rows:
        if r.backend == backend and r.note:
            return f"{backend}: {r.note.removeprefix('n/a: ')}"
    return f"{backend} not measured in this run"


def judge(rows: list[ReportRow]) -> list[Goal]:
    """Every goal for every native (non-anchor) backend on every target with cycle figures."""
    out: list[Goal] = []
    keys = list(dict.fromkeys((r.model, r.target) for r in rows))
    for model, target in keys:
        group = [r for r in rows if r.model == model and r.target == target]
        if target == "host":
            out += _host_goals(group)
            continue
        if not any(r.cycles_mean is not None or r.flash_bytes is not None for r in group):
            continue  # host or nothing measured: the goals are about MCU flash and cycles
        by = {r.build: r for r in group}
        measured = {a: by[a] for a in ANCHORS if a in by and by[a].cycles_mean is not None}
        fastest = min(measured.values(), key=lambda r: r.cycles_mean or 0.0, default=None)
        for native in (r for r in group if r.backend not in ANCHORS):
            if native.note and native.note.startswith("n/a"):
                continue
            if native.backend in {layout for layout, _ in LAYOUT_GOALS}:
                for field, limit in LAYOUT_GOALS.get((native.backend, target), []):
                    what, unit = _FIELD[field]
                    out.append(_ratio_goal(native, by.get("emlearn"), "emlearn", field, limit,
                                           f"{what} <= {limit}x emlearn", unit,
                                           _why(group, "emlearn")))
                out.append(_parity_goal(native))
                continue
            out.append(_ratio_goal(native, by.get("m2cgen"), "m2cgen", "flash_bytes",
                                   FLASH_VS_M2CGEN, f"flash <= {FLASH_VS_M2CGEN}x m2cgen",
                                   "bytes", _why(group, "m2cgen")))
            out.append(_ratio_goal(native, by.get("emlearn"), "emlearn", "flash_bytes",
                                   FLASH_VS_EMLEARN, "flash <= emlearn", "bytes",
                                   _why(group, "emlearn")))
            out.append(_ratio_goal(native, fastest, fastest.backend if fastest else "anchor",
                                   "cycles_mean", CYCLES_VS_FASTEST,
                                   f"mean cycles <= {CYCLES_VS_FASTEST}x fastest anchor",
                                   "cycles", "no anchor measured"))
            out.append(_parity_goal(native))
    return out


def _host_goals(group: list[ReportRow]) -> list[Goal]:
    """On the host: the default layout's ns per row at most emlearn's (timed in the same run;
    quantized or not)."""
    by = {r.build: r for r in group}
    out: list[Goal] = []
    for native in group:
        if native.backend != DEFAULT_LAYOUT or native.ns_per_inference is None:
            continue
        out += [_ratio_goal(native, by.get("emlearn"), "emlearn", "ns_per_inference",
                            NS_VS_EMLEARN, "ns per row <= emlearn", "ns", _why(group, "emlearn")),
                _parity_goal(native)]
    return out


def _parity_goal(native: ReportRow) -> Goal:
    mm = native.promise_mismatches()
    versus = "its reference" if native.quantize else "sklearn"
    agrees = native.emulator_agrees
    met = None if mm is None else (mm == 0 and agrees is not False)
    if met is False:
        note = f"{mm} mismatches vs {versus}" if mm else "emulator differs from host C"
    else:
        note = "" if met else "parity not checked"
    return Goal(model=native.model, target=native.target, backend=native.build,
                goal="0 mismatches vs its reference" if native.quantize else "0 mismatches",
                value=None if mm is None else float(mm), anchor=None,
                anchor_value=None, limit=0.0, ratio=None, met=met, note=note)


def markdown(goals: list[Goal]) -> str:
    if not goals:
        return ""
    lines = ["| model | target | backend | goal | native | anchor | ratio | status |",
             "|---|---|---|---|---|---|---|---|"]
    for g in goals:
        anchor = "—" if g.anchor_value is None else f"{g.anchor} {g.anchor_value:,.0f}"
        native = "—" if g.value is None else f"{g.value:,.0f}"
        ratio = "—" if g.ratio is None else f"{g.ratio:.2f}x (<= {g.limit:g}x)"
        if g.goal.startswith("mean") and g.rows and g.anchor_rows and g.rows != g.anchor_rows:
            ratio += f", means over {g.rows:,} / {g.anchor_rows:,} rows"
        lines.append(f"| {g.model} | {g.target} | {g.backend} | {g.goal} | {native} | {anchor} "
                     f"| {ratio} | {g.status().replace('|', '/')} |")
    return "\n".join(lines)
