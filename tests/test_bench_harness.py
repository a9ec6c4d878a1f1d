"""bench/harness.py bookkeeping, with a fake clock and a fake load average (no real timing)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from common import update_json, write_json  # noqa: E402
from harness import compare  # noqa: E402


class FakeMachine:
    """A clock that each variant call advances by its next scripted duration; a scripted load average."""

    def __init__(self, durations: dict[str, list[float]], loads: list[float] | None = None):
        self.t = 0.0
        self.durations = {k: list(v) for k, v in durations.items()}
        self.loads = list(loads or [])
        self.calls: list[str] = []

    def clock(self) -> float:
        return self.t

    def loadavg(self):
        one = self.loads.pop(0) if self.loads else 0.5
        return (one, 0.4, 0.3)

    def variant(self, name: str):
        def run():
            self.calls.append(name)
            self.t += self.durations[name].pop(0)
            return f"{name}-{len(self.calls)}"
        return run


def run(machine: FakeMachine, names=("A", "B"), **kw):
    kw.setdefault("cores", 2)
    return compare({n: machine.variant(n) for n in names}, baseline=names[0], clock=machine.clock,
                   loadavg=machine.loadavg, echo=None, **kw)


def test_interleaved_order_warmup_excluded_and_paired_ratios():
    m = FakeMachine({"A": [50.0, 2.0, 2.5, 1.5], "B": [50.0, 1.0, 1.0, 1.0]})
    cmp = run(m, repeats=3, warmup=1, work=10, unit="pairs")
    assert m.calls == ["A", "B"] * 4  # A B A B ..., the first round the warm-up
    assert cmp.seconds == {"A": [2.0, 2.5, 1.5], "B": [1.0, 1.0, 1.0]}  # binary-exact durations
    assert cmp.ratios() == {"A": [1.0, 1.0, 1.0], "B": [2.0, 2.5, 1.5]}
    s = cmp.summary()["B"]
    assert (s["ratio_median"], s["ratio_min"], s["ratio_max"]) == (2.0, 1.5, 2.5)
    assert (s["ratio_q1"], s["ratio_q3"]) == (1.75, 2.25)
    assert s["seconds_median"] == 1.0 and s["rate_median"] == 10.0
    assert cmp.summary()["A"]["rate_median"] == 5.0
    assert cmp.outputs == {"A": "A-7", "B": "B-8"}  # each variant's last return value
    # spread (2.5 - 1.5) / 2.0 = 50% > 15%: a warning; the load stayed low: no load warning
    warnings = cmp.warnings()
    assert len(warnings) == 1 and "'B' vs 'A': ratio spread 1.50..2.50 is 50% of the median 2.00" in warnings[0]
    steady = run(FakeMachine({"A": [2.0, 2.0, 2.25], "B": [1.0, 1.0, 1.0]}), repeats=3, warmup=0)
    assert steady.warnings() == []  # spread 12.5%: under 15%


def test_load_recorded_before_and_after_each_repeat_and_warned_above_core_count():
    m = FakeMachine({"A": [1.0] * 3, "B": [0.5] * 3}, loads=[0.5, 0.7, 1.0, 3.5, 1.2, 1.1])
    cmp = run(m, repeats=3, warmup=0)
    assert [r["before"][0] for r in cmp.load] == [0.5, 1.0, 1.2]
    assert [r["after"][0] for r in cmp.load] == [0.7, 3.5, 1.1]
    assert cmp.peak_load() == 3.5
    warnings = cmp.warnings()
    assert len(warnings) == 1 and "load average reached 3.5 on 2 cores (repeats [1])" in warnings[0]
    data = json.loads(json.dumps(cmp.to_json()))
    assert data["warnings"] == warnings and data["load"][1] == {"repeat": 1, "before": [1.0, 0.4, 0.3],
                                                                 "after": [3.5, 0.4, 0.3]}
    assert data["summary"]["B"]["ratio_median"] == 2.0 and data["order"] == "interleaved"


def test_few_repeats_warn_and_warmup_with_a_cheaper_callable():
    m = FakeMachine({"A": [1.0], "B": [9.0, 0.5], "cheap": [0.1]})
    cmp = compare({"A": m.variant("A"), "B": m.variant("B")}, baseline="A", repeats=1, warmup=1,
                  warmup_with={"A": m.variant("cheap")}, clock=m.clock, loadavg=m.loadavg, cores=2, echo=None)
    assert m.calls == ["cheap", "B", "A", "B"]  # A warmed up by its cheap callable, B by itself
    assert cmp.seconds == {"A": [1.0], "B": [0.5]} and cmp.warmup == 1
    assert cmp.warnings() == ["only 1 repeat(s): the spread says little; use --repeats 3 or more"]


def test_echo_prints_repeats_and_warnings_and_table_and_bad_arguments(tmp_path):
    lines = []
    m = FakeMachine({"A": [4.0, 4.0], "B": [1.0, 3.0]}, loads=[5.0] * 4)
    cmp = compare({"A": m.variant("A"), "B": m.variant("B")}, baseline="A", repeats=2, warmup=0, work={"A": 8, "B": 8},
                  clock=m.clock, loadavg=m.loadavg, cores=2, echo=lines.append)
    assert lines[0] == "  repeat 1/2: A 4.00s, B 1.00s (load 5.00)"
    assert sum(line.startswith("WARNING:") for line in lines) == 3  # load, 2 repeats, spread 4.00..1.33
    table = cmp.table(extra={"B": {"identical labels": "100%"}}, with_warnings=True)
    assert "| B " in table and "| 2.67 " in table and "1.33..4.00" in table and "100%" in table
    assert table.count("WARNING:") == 3 and "peak 5.00, 2 cores" in table and "speed-up over 'A'" in table
    assert "WARNING" not in cmp.table()
    path = write_json(tmp_path / "out" / "r.json", {"x": cmp.to_json()})
    assert json.loads(path.read_text())["x"]["ratios"]["B"] == [4.0, 4 / 3]
    with pytest.raises(ValueError, match="baseline 'C'"):
        compare({"A": m.variant("A")}, baseline="C")
    with pytest.raises(ValueError, match="repeats"):
        compare({"A": m.variant("A")}, baseline="A", repeats=0)


def test_bench_is_one_program_every_script_listed_none_importing_another():
    import ast

    from bench.__main__ import SMOKE, benchmarks, summary

    found = benchmarks()
    assert set(SMOKE) == set(found), "every bench script has a smoke setting in bench/__main__.py, and only they do"
    assert all(summary(path) for path in found.values())
    for name, path in found.items():
        imported = {alias.name for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Import)
                    for alias in node.names}
        imported |= {node.module for node in ast.walk(ast.parse(path.read_text()))
                     if isinstance(node, ast.ImportFrom) and node.module}
        assert not {m for m in imported if m.startswith("bench")}, f"bench_{name}.py imports another script"


def _add_keys(path: str, who: str, n: int) -> None:
    for i in range(n):
        update_json(path, lambda data: data.update({f"{who}{i}": i}))


def test_update_json_keeps_what_two_processes_add_at_once(tmp_path):
    # two bench runs writing one results file: read, change and write happen under one lock, so neither
    # process's writes drop the other's
    import multiprocessing

    path = tmp_path / "results.json"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_add_keys, args=(str(path), who, 40)) for who in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    assert json.loads(path.read_text()) == {f"{who}{i}": i for who in ("a", "b") for i in range(40)}
