"""What every bench script shares. Each script imports it first (``from common import ...``; a script run as
``python bench/NAME.py`` finds it beside itself), which sets the offline environment and puts this checkout's
labeler/ and training/ first on ``sys.path``.

- paths: ``REPO``, ``RESULTS`` (``$LABELER_BENCH_RESULTS`` or bench/results: ``python -m bench smoke`` writes
  elsewhere), ``SHARED_DATASETS`` (the product's one spelling of ``<repo>/../shared/datasets``);
- data: ``dataset_rows`` reads a shared data set through the product's loader (``labeler.simulate.datasets``);
  ``PLANS``, the label-efficiency grid (batch size, rounds) per data set;
- output: ``write_json`` (atomic), ``markdown_table``, ``load_average``, ``wait_for_quiet``;
- the product: ``free_port``, ``local_server``, ``cli`` (a ``labeler`` command in process), ``simulate_config``;
- the in-process oracle loop (``oracle_project``, ``oracle_rounds``, ``write_labels``): the product's own steps
  without the server, answered with the truth. bench_gold.py runs it, and so do tests/test_one_loop.py and
  tests/test_gold_estimator.py.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

for _key, _value in (("HF_HUB_OFFLINE", "1"), ("HF_HUB_DISABLE_TELEMETRY", "1"), ("TRANSFORMERS_OFFLINE", "1"),
                     ("TOKENIZERS_PARALLELISM", "false")):
    os.environ.setdefault(_key, _value)

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's labeler/ and training/, before any installed copy
RESULTS = Path(os.environ.get("LABELER_BENCH_RESULTS") or REPO / "bench" / "results")

from labeler.simulate.datasets import DATASETS, SHARED_DATASETS  # noqa: E402


# batch size and rounds per data set of the label-efficiency runs (the anchors' grids: AG News rounds of 16,
# BANKING77 rounds of 77); bench_peers.py runs its peers on the same grid
PLANS = {
    "ag_news": dict(batch_size=16, rounds=25),  # up to 400 labels
    "banking77": dict(batch_size=77, rounds=24),  # up to 1,848 labels
    "sms_spam": dict(batch_size=16, rounds=20),  # up to 320 labels
    "nlupp_banking": dict(batch_size=32, rounds=15),  # up to 480 labels
    "nlupp_hotels": dict(batch_size=20, rounds=25),  # up to 500 labels (bench_multilabel's standard run)
    "goemotions": dict(batch_size=50, rounds=16),  # up to 800 labels (bench_multilabel's standard run)
}


# -- data -------------------------------------------------------------------------------------------------
def require_shared_data() -> Path:
    """The shared data folder, or exit with where it was looked for."""
    if not SHARED_DATASETS.exists():
        sys.exit(f"shared data sets not found at {SHARED_DATASETS} (they live at ../shared/datasets from the repo root)")
    return SHARED_DATASETS


def dataset_rows(name: str) -> tuple[list[dict], list[dict]]:
    """(pool rows, held-out rows) of a shared data set as ``{"id", "text", "label"}`` dicts, in file order,
    read by the product's loader (``labeler.simulate.datasets``: which file, which split)."""
    pool, held = DATASETS[name].load()
    return ([{"id": r.id, "text": r.text, "label": r.label} for r in pool],
            [{"id": r.id, "text": r.text, "label": r.label} for r in held])


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# -- output -----------------------------------------------------------------------------------------------
def curve_mean(variant: dict, key: str) -> float | None:
    """The mean of ``key`` over every round of every seed of a simulated variant (``labeler simulate``'s
    ``runs[*]["curve"]``) where the round holds it; None where none does (e.g. clicks on a single-label task)."""
    import numpy as np

    vals = [p[key] for run in variant["runs"] for p in run["curve"] if p.get(key) is not None]
    return float(np.mean(vals)) if vals else None


def update_json(path: str | os.PathLike, change, indent: int = 2) -> dict:
    """Read the JSON object at ``path`` (``{}`` when absent), ``change(data)`` it in place and write it back
    (``write_json``), under an exclusive lock on ``path.lock``: two bench processes that finish at the same moment
    both keep their part (read, change and write used to interleave and the later writer dropped the other's)."""
    import fcntl

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(path.suffix + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = json.loads(path.read_text()) if path.exists() else {}
        change(data)
        write_json(path, data, indent=indent)
    return data


def write_json(path: str | os.PathLike, results: Any, indent: int = 2, **dumps: Any) -> Path:
    """Write ``results`` atomically (a temporary file beside ``path``, renamed over it): a stopped run never
    leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(results, indent=indent, default=float, **dumps) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def markdown_table(rows: list[dict], cols: list[str]) -> str:
    """A markdown table, columns padded to their widest cell."""
    widths = [max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in cols]

    def line(vals):
        return "| " + " | ".join(str(v).ljust(w) for v, w in zip(vals, widths)) + " |"

    return "\n".join([line(cols), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
                     + [line([r.get(c, "") for c in cols]) for r in rows])


def load_average() -> list[float]:
    """The 1, 5 and 15-minute load averages (NaN where the OS has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return [float("nan")] * 3


def wait_for_quiet(max_load: float, patience_s: float = 300.0, poll_s: float = 10.0, echo=print) -> list[float]:
    """Wait (up to ``patience_s``) until the 1-minute load average is at most ``max_load``; the load averages then."""
    deadline = time.monotonic() + patience_s
    while (load := load_average())[0] > max_load and time.monotonic() < deadline:
        if echo:
            echo(f"  load {load[0]:.2f} > {max_load}: waiting")
        time.sleep(poll_s)
    return load


# -- the product ------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def local_server(home: Path) -> Iterator[Any]:
    """The real local Argilla server in ``home`` on a free port, ``LABELER_HOME`` pointing at it (so labeler's
    commands find it); yields its ``ServerPaths`` and stops it on the way out."""
    from labeler.server import process
    from labeler.server.paths import ServerPaths

    os.environ["LABELER_HOME"] = str(home)
    paths = ServerPaths(home)
    process.start(paths, port=free_port())
    try:
        yield paths
    finally:
        process.stop(paths)


def cli(*argv: str) -> str:
    """Run one ``labeler`` command in process (the console script's own entry point); its stdout."""
    from labeler.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            main(list(argv))
        except SystemExit as exc:
            if exc.code:
                raise RuntimeError(f"labeler {' '.join(argv)} failed ({exc.code}): {out.getvalue()[-500:]}") from None
    return out.getvalue()


def simulate_config(data, state: Path, cfg: Path, **sections: dict) -> Path:
    """A config file at ``cfg`` for ``labeler`` commands over the pool of ``data`` (a ``SimData``): the
    simulate.yaml ``labeler simulate`` wrote, its project in ``state`` (whose cache is the simulation's, so the
    embeddings are computed once) and ``sections`` replaced whole."""
    import yaml

    from labeler.project import Project

    state.mkdir(parents=True)
    (state / "cache").symlink_to(Project(data.config).cache, target_is_directory=True)
    raw = yaml.safe_load((Path(data.config.project.dir) / "simulate.yaml").read_text().split("\n", 1)[1])
    raw.update(project={"dir": str(state)}, **sections)
    cfg.write_text(yaml.safe_dump(raw, sort_keys=False))
    return cfg


# -- the in-process oracle loop ---------------------------------------------------------------------------
def subset(n_all: int, n: int | None, rng) -> Any:
    """``n`` of ``n_all`` row indices, sorted, as ``labeler.simulate.subsample`` picks them (pool first, then
    eval, from one generator); all of them where ``n`` is None or not smaller."""
    import numpy as np

    return np.arange(n_all) if n is None or n >= n_all else np.sort(rng.choice(n_all, size=n, replace=False))


def write_labels(project, answered: dict[str, Any], texts: dict[str, str]) -> None:
    """labels.parquet as ``labeler pull`` writes it, one submitted answer per id of ``answered``: a label, or
    for a multi-label answer the list of labels (``label`` None, as ``pull`` writes it)."""
    import pandas as pd

    rows = [{"id": i, "text": texts[i], "fields": json.dumps({"text": texts[i]}),
             "label": None if isinstance(lab, list) else lab, "labels": lab if isinstance(lab, list) else [],
             "status": "submitted", "annotator": "oracle", "n_annotators": 1, "agreement": None,
             "submitted_at": None, "round": 0} for i, lab in answered.items()]
    pd.DataFrame(rows).to_parquet(project.labels, index=False)


@dataclass
class OracleProject:
    """A project over a pool subset of a shared data set, and the truth the oracle answers with."""

    config: Any
    project: Any
    truth: dict[str, Any]  # id -> label (multi-label: the list of labels, [] for "none of these")
    texts: dict[str, str]  # id -> text


def oracle_project(data, rows, root: Path, batch: int, **settings: Any) -> OracleProject:
    """The simulation config of ``data`` (a ``SimData``) on the pool rows ``rows``, its project under ``root``
    (the texts' embeddings shared with ``labeler simulate``'s cache; predictions stay here), the queue in
    batches of ``batch``, logreg runs; ``settings``: more config fields, ``section__field=value``."""
    import numpy as np

    from labeler.project import Project

    def truth(i: int):
        return [data.labels[k] for k in np.flatnonzero(data.y[i])] if data.multi_label else data.labels[data.y[i]]

    root.mkdir(parents=True, exist_ok=True)
    pool_file = root / "pool.jsonl"
    key = data.config.data.label_field
    pool_file.write_text("".join(json.dumps({"id": data.ids[i], "text": data.texts[i], key: truth(i)}) + "\n"
                                 for i in rows), encoding="utf-8")
    config = data.config.model_copy(deep=True)
    config.data.path = pool_file
    config.project.dir = root / "project"
    config.training.runs_dir = root / "project" / "runs"  # validated configs carry it resolved: not simulate's
    config.training.backend = "logreg"
    config.queue.batch_size = batch
    for key, value in settings.items():
        section, field = key.split("__")
        setattr(getattr(config, section), field, value)
    project = Project(config).ensure()
    shared = Project(data.config).cache / "embeddings"
    shared.mkdir(parents=True, exist_ok=True)
    project.cache.mkdir()
    (project.cache / "embeddings").symlink_to(shared, target_is_directory=True)
    return OracleProject(config, project, {data.ids[i]: truth(i) for i in rows}, {data.ids[i]: data.texts[i] for i in rows})


def answered_project(dataset: str, root: Path, batch: int, n: int, echo=print):
    """A shared data set's whole pool as a fresh project under ``root`` (``oracle_project``; ``root`` emptied
    first), brought to ``n`` answers (a batch past it at most) by the product's steps in process, no run:
    ``scoring.bootstrap`` -> ``loop.plan_push`` -> the oracle answers the batch, written as ``pull`` writes it.
    Returns (the ``SimData``, the ``OracleProject``, the answers, each round's seconds)."""
    import shutil
    import time

    import numpy as np

    from labeler import simulate as sim
    from labeler.loop.round import plan_push
    from labeler.loop.scoring import bootstrap

    data = sim.dataset_data(dataset)
    shutil.rmtree(root, ignore_errors=True)
    op = oracle_project(data, np.arange(len(data.ids)), root / "base", batch)
    answered: dict[str, Any] = {}
    seconds: list[float] = []
    while len(answered) < n:
        t0 = time.perf_counter()
        pool, scores = bootstrap(op.config, progress=False)
        batch, _ = plan_push(op.config, pool, scores, set(answered), set(answered), op.project.load_labels())
        answered.update({scores.ids[i]: op.truth[scores.ids[i]] for i in batch.indices})
        write_labels(op.project, answered, op.texts)
        op.project.write_state({"round": len(seconds) + 1, "gold_share": op.config.queue.gold_share})
        seconds.append(round(time.perf_counter() - t0, 1))
        echo(f"  setup round {len(seconds)}: {len(answered)} labels, {seconds[-1]} s")
    return data, op, answered, seconds


@dataclass
class OracleRound:
    round: int  # 1, 2, ...
    chosen: list[str]  # the ids ``plan_push`` put in this round's batch, in batch order
    pending: Any  # what ``plan_push`` left pending
    scores: Any  # the scores after the answers (the next round's), or the batch's where not re-scored
    answered: dict[str, str]  # every answer so far


def oracle_rounds(config, project, truth: dict[str, str], texts: dict[str, str], rounds: int,
                  rescore_last: bool = True) -> Iterator[OracleRound]:
    """``rounds`` rounds of the product's steps in process, without the Argilla server: ``scoring.bootstrap``
    -> ``loop.plan_push`` -> the batch answered with ``truth`` and written as ``pull`` writes it -> the round
    recorded in state.json -> ``bootstrap`` again (after the last round only with ``rescore_last``)."""
    from labeler.loop.round import plan_push
    from labeler.loop.scoring import bootstrap

    answered: dict[str, str] = {}
    pool, scores = bootstrap(config, progress=False)
    for r in range(rounds):
        batch, pending = plan_push(config, pool, scores, set(answered), set(answered), project.load_labels())
        chosen = [scores.ids[i] for i in batch.indices]
        answered.update({i: truth[i] for i in chosen})
        write_labels(project, answered, texts)
        project.write_state({"round": r + 1, "gold_share": config.queue.gold_share})
        if rescore_last or r < rounds - 1:
            pool, scores = bootstrap(config, progress=False)
        yield OracleRound(r + 1, chosen, pending, scores, answered)
