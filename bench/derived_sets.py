"""The derived sets: shapes the defaults were not chosen on, made at run time from the shared data (written under
a work folder, never into the repository), and the user's path to each (``labeler init``, then what ``labeler
simulate -c`` reads). ``bench_derived`` (default against random), ``bench_many_classes`` (the product path) and
``bench_interval_coverage`` read them. A module, not a script: benchmark scripts never import one another.
The sets are described in ``bench_derived``'s docstring."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

from common import cli, read_jsonl

SETS = {"agpairs": dict(batch=50, rounds=12, multi_label=True), "goemo10": dict(batch=50, rounds=16, multi_label=True),
        "goemo2": dict(batch=50, rounds=16, multi_label=True), "nlupp_both": dict(batch=50, rounds=16, multi_label=True),
        "goemo_single": dict(batch=50, rounds=16, multi_label=False),
        "mixed140": dict(batch=150, rounds=10, multi_label=False)}
DOMAINS = {"mixed140": {"b": "banking", "e": "emotion", "h": "hotel", "n": "news"}}  # id prefix -> domain


def derive(name: str, shared: Path) -> list[dict]:
    """The rows ``{"id", "text", "labels"}`` (single-label: ``"label"``) of the derived set ``name``
    (deterministic)."""
    if name == "agpairs":
        rng = random.Random(7)
        news = read_jsonl(shared / "ag_news" / "test_all.jsonl")
        rng.shuffle(news)
        rows, i = [], 0
        while len(rows) < 3000 and i + 2 < len(news):
            if rng.random() < 0.45:
                rows.append({"text": news[i]["text"], "labels": [news[i]["label"]]})
                i += 1
            else:
                a, b = news[i], news[i + 1]
                rows.append({"text": a["text"] + "\n\n" + b["text"], "labels": sorted({a["label"], b["label"]})})
                i += 2
        return [{"id": f"n{k}", **r} for k, r in enumerate(rows)]
    if name in ("goemo10", "goemo2"):
        comments = read_jsonl(shared / "goemotions" / "train.jsonl")
        if name == "goemo10":
            counts = Counter(x for r in comments for x in r["labels"] if x != "neutral")
            keep, n = {x for x, _ in counts.most_common(10)}, 6000
        else:
            keep, n = {"gratitude", "anger"}, 5000
        return [{"id": r["id"], "text": r["text"], "labels": [x for x in r["labels"] if x in keep]}
                for r in comments[:n]]
    if name == "goemo_single":
        comments = read_jsonl(shared / "goemotions" / "train.jsonl")
        return [{"id": r["id"], "text": r["text"], "label": r["labels"][0]}
                for r in comments if len(r["labels"]) == 1][:8000]
    if name == "mixed140":
        return mixed140(shared)
    if name == "nlupp_both":
        return [{"id": f"{domain[0]}{k}", "text": r["text"], "labels": r["labels"]}
                for domain in ("banking", "hotels")
                for k, r in enumerate(read_jsonl(shared / "nlupp" / f"{domain}.jsonl"))]
    raise ValueError(f"unknown set {name!r}; known: {', '.join(SETS)}")


def mixed140(shared: Path) -> list[dict]:
    """``mixed140``'s rows: four domains' labels, each prefixed by its domain but BANKING77's (deterministic)."""
    rows = [{"id": f"b{k}", "text": r["text"], "label": r["label"]}
            for k, r in enumerate(read_jsonl(shared / "banking77" / "train.jsonl")
                                  + read_jsonl(shared / "banking77" / "test.jsonl"))]
    rows += [{"id": f"h{k}", "text": r["text"], "label": "hotel_" + r["labels"][0]}
             for k, r in enumerate(read_jsonl(shared / "nlupp" / "hotels.jsonl")) if len(r["labels"]) == 1]
    emotions = [r for r in read_jsonl(shared / "goemotions" / "train.jsonl") if len(r["labels"]) == 1][:3000]
    rows += [{"id": f"e{r['id']}", "text": r["text"], "label": "emotion_" + r["labels"][0]} for r in emotions]
    news = read_jsonl(shared / "ag_news" / "test_all.jsonl")
    random.Random(11).shuffle(news)
    rows += [{"id": f"n{r['id']}", "text": r["text"], "label": "news_" + r["label"].lower().replace("/", "_")}
             for r in news[:1200]]
    return rows


def derived_config(name: str, shared: Path, work: Path, limit: int | None = None) -> Path:
    """The user's path to a derived set's config: its rows written to ``work/<name>.jsonl`` (``limit``: a seeded
    random subset of that many), ``labeler init FILE --labels-from ...``; returns the config's path."""
    rows = derive(name, shared)
    if limit and limit < len(rows):
        rows = random.Random(0).sample(rows, limit)
    work.mkdir(parents=True, exist_ok=True)
    data = work / f"{name}.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    config = work / f"{name}.yaml"
    kind = ["--labels-from", "labels", "--multi-label"] if SETS[name]["multi_label"] else ["--labels-from", "label"]
    cli("init", str(data), *kind, "-o", str(config), "--force")
    return config


def derived_data(name: str, shared: Path, work: Path, limit: int | None = None):
    """A derived set as ``labeler simulate -c`` reads it (a ``SimData``: its 20% eval split held out by id)."""
    from labeler.config import load_config
    from labeler.simulate import config_data

    return config_data(load_config(derived_config(name, shared, work, limit)))
