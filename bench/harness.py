"""Interleaved timing for every bench script that reports a ratio (issue 17).

A ratio taken in one pass (all of A, then all of B) measures whatever else the machine did meanwhile.
``compare`` runs the variants interleaved on the same inputs, A B C A B C ..., ``repeats`` times after
``warmup`` untimed rounds, and reports each variant's speed-up over the baseline *per repeat* (paired:
the baseline time of that repeat over the variant's), with the median and spread (min..max and the
interquartile range) across repeats. The load average is sampled before and after every repeat; a load
above the core count, a wide spread or too few repeats each adds a warning, printed and kept in the JSON.

    from harness import compare
    from common import write_json
    cmp = compare({"loop": run_loop, "batched": run_batched}, baseline="loop", repeats=5, work=160, unit="pairs")
    print(cmp.table())
    results["nli"] = cmp.to_json()          # seconds, ratios, load, warnings
    labels = cmp.outputs["batched"]          # each variant's last return value, for fidelity checks
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from common import load_average, markdown_table, write_json  # noqa: F401 - also importable from here, as before

DEFAULT_MAX_SPREAD = 0.15  # (max - min) / median of a ratio above this is "wide"
MIN_REPEATS = 3


def core_count() -> int:
    """CPUs this process may run on (the affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@dataclass
class Comparison:
    """The timings of one interleaved comparison and everything derived from them."""

    baseline: str
    names: list[str]
    seconds: dict[str, list[float]]
    load: list[dict]
    cores: int
    warmup: int
    work: dict[str, float] = field(default_factory=dict)
    unit: str = "items"
    max_spread: float = DEFAULT_MAX_SPREAD
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def repeats(self) -> int:
        return len(self.seconds[self.baseline])

    def ratios(self) -> dict[str, list[float]]:
        """Per repeat, baseline seconds / variant seconds (above 1: faster than the baseline)."""
        base = np.asarray(self.seconds[self.baseline], dtype=float)
        return {n: (base / np.asarray(self.seconds[n], dtype=float)).tolist() for n in self.names}

    def summary(self) -> dict[str, dict]:
        out = {}
        for name, ratio in self.ratios().items():
            secs = np.asarray(self.seconds[name], dtype=float)
            r = np.asarray(ratio, dtype=float)
            row = {
                "seconds_median": float(np.median(secs)), "seconds_min": float(secs.min()), "seconds_max": float(secs.max()),
                "ratio_median": float(np.median(r)), "ratio_min": float(r.min()), "ratio_max": float(r.max()),
                "ratio_q1": float(np.percentile(r, 25)), "ratio_q3": float(np.percentile(r, 75)),
            }
            row["ratio_spread"] = (row["ratio_max"] - row["ratio_min"]) / row["ratio_median"]
            if name in self.work:
                row["rate_median"] = self.work[name] / row["seconds_median"]
            out[name] = row
        return out

    def peak_load(self) -> float:
        values = [x for rec in self.load for x in (rec["before"][0], rec["after"][0]) if x == x]
        return max(values) if values else float("nan")

    def warnings(self) -> list[str]:
        out = []
        peak = self.peak_load()
        if peak > self.cores:
            busy = [rec["repeat"] for rec in self.load if max(rec["before"][0], rec["after"][0]) > self.cores]
            out.append(f"load average reached {peak:.1f} on {self.cores} cores (repeats {busy}): "
                       f"other work shared the CPUs, ratios may measure contention; rerun on a quieter machine")
        if self.repeats < MIN_REPEATS:
            out.append(f"only {self.repeats} repeat(s): the spread says little; use --repeats {MIN_REPEATS} or more")
        for name, row in self.summary().items():
            if name != self.baseline and row["ratio_spread"] > self.max_spread:
                out.append(f"{name!r} vs {self.baseline!r}: ratio spread {row['ratio_min']:.2f}..{row['ratio_max']:.2f} "
                           f"is {100 * row['ratio_spread']:.0f}% of the median {row['ratio_median']:.2f} "
                           f"(> {100 * self.max_spread:.0f}%): noisy, take more repeats")
        return out

    def to_json(self) -> dict:
        return {
            "baseline": self.baseline, "order": "interleaved", "variants": list(self.names),
            "repeats": self.repeats, "warmup": self.warmup, "cores": self.cores, "unit": self.unit,
            "work": self.work, "seconds": self.seconds, "ratios": self.ratios(), "summary": self.summary(),
            "load": self.load, "peak_load": self.peak_load(), "warnings": self.warnings(),
        }

    def rows(self, label: str = "variant") -> list[dict]:
        """One table row per variant: median seconds, rate, ratio median and spread."""
        rows = []
        for name, s in self.summary().items():
            row = {label: name, "median s": f"{s['seconds_median']:.2f}",
                   "s min..max": f"{s['seconds_min']:.2f}..{s['seconds_max']:.2f}"}
            if "rate_median" in s:
                row[f"{self.unit}/s"] = f"{s['rate_median']:.2f}"
            row["x baseline"] = f"{s['ratio_median']:.2f}"
            row["ratio min..max"] = f"{s['ratio_min']:.2f}..{s['ratio_max']:.2f}"
            row["ratio IQR"] = f"{s['ratio_q1']:.2f}..{s['ratio_q3']:.2f}"
            rows.append(row)
        return rows

    def table(self, label: str = "variant", extra: Mapping[str, Mapping[str, Any]] | None = None,
              with_warnings: bool = False) -> str:
        """A markdown table (``extra``: more columns per variant name), then the baseline and load line
        (and the warnings, which ``compare`` has already printed)."""
        rows = self.rows(label)
        for row in rows:
            row.update((extra or {}).get(row[label], {}))
        cols = list(dict.fromkeys(c for r in rows for c in r))
        text = markdown_table(rows, cols)
        text += (f"\n\nx baseline: speed-up over {self.baseline!r}, median over "
                 f"{self.repeats} interleaved repeats after {self.warmup} warm-up; "
                 f"load average {self.load[0]['before'][0]:.2f} at the start, peak {self.peak_load():.2f}, {self.cores} cores")
        return text + ("".join(f"\nWARNING: {w}" for w in self.warnings()) if with_warnings else "")


def compare(
    variants: Mapping[str, Callable[[], Any]],
    baseline: str,
    repeats: int = 5,
    warmup: int = 1,
    work: float | Mapping[str, float] | None = None,
    unit: str = "items",
    warmup_with: Mapping[str, Callable[[], Any]] | None = None,
    max_spread: float = DEFAULT_MAX_SPREAD,
    clock: Callable[[], float] = time.perf_counter,
    loadavg: Callable[[], Sequence[float]] = load_average,
    cores: int | None = None,
    echo: Callable[[str], None] | None = print,
) -> Comparison:
    """Time ``variants`` (name -> zero-argument callable) interleaved; see the module docstring.

    ``work``: units of work per call (one number, or per variant) for a rate column. ``warmup_with``:
    cheaper callables to warm a variant up with (default: the variant itself). ``echo``: progress and
    warnings (``None``: silent).
    """
    names = list(variants)
    if baseline not in variants:
        raise ValueError(f"baseline {baseline!r} is not among the variants {names}")
    if repeats < 1 or warmup < 0:
        raise ValueError(f"repeats must be >= 1 and warmup >= 0, got {repeats} and {warmup}")
    if isinstance(work, (int, float)):
        work = {n: float(work) for n in names}
    cmp = Comparison(baseline=baseline, names=names, seconds={n: [] for n in names}, load=[],
                     cores=int(cores or core_count()), warmup=warmup, work=dict(work or {}), unit=unit,
                     max_spread=max_spread)
    for _ in range(warmup):
        for name in names:
            ((warmup_with or {}).get(name) or variants[name])()
    for rep in range(repeats):
        before = [float(x) for x in loadavg()]
        for name in names:
            t0 = clock()
            out = variants[name]()
            cmp.seconds[name].append(clock() - t0)
            cmp.outputs[name] = out
        cmp.load.append({"repeat": rep, "before": before, "after": [float(x) for x in loadavg()]})
        if echo:
            echo(f"  repeat {rep + 1}/{repeats}: " + ", ".join(f"{n} {cmp.seconds[n][-1]:.2f}s" for n in names)
                 + f" (load {before[0]:.2f})")
    if echo:
        for w in cmp.warnings():
            echo(f"WARNING: {w}")
    return cmp


def machine_info() -> dict:
    """Cores, load, and torch's version and thread count when torch is importable."""
    info: dict[str, Any] = {"cores": core_count(), "cpu_count": os.cpu_count(), "load_at_start": load_average()}
    try:
        import torch

        info.update(torch=torch.__version__, torch_threads=torch.get_num_threads(), cuda=torch.cuda.is_available())
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return info

