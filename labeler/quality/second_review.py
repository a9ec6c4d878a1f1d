"""The second review of suspected label errors, through Argilla: rank, push, pull.

``labeler.quality.suspects.find_suspects``: the project's human labels (every split) ranked by ``labeler.quality.label_errors`` on the cached
embeddings of the pool. ``push_review``: the top ``budget`` go to ``<dataset>-review`` in the same workspace,
with the same label question and no suggestion: the reviewer labels from the text alone (the first answer is
not shown; pre-selecting the model's guess would pull reviewers towards it, and the model is what called
the label wrong). Metadata: ``priority`` (1 first) for the queue, and ``review_of``, ``review_reason``,
``first_answer``, ``first_annotator``, ``quality``, which Argilla shows owners and workspace admins only (extra
metadata without a metadata property is hidden from annotators).

Argilla 2.8 marks a record completed with its first submitted answer (``min_submitted`` 1) and then takes it
out of everyone's Pending tab. So a record whose answers decide nothing yet (only its first annotator
answered, or the second answer disagrees) is sent again under a new id, ``<id>#2``, ``<id>#3``...; every
review record of one labeled record counts towards one verdict (``labeler.quality.label_errors.decide``). Each push first
pulls, so it always works from the server's answers. Verdicts go to ``review.parquet``; the label table on
disk is never rewritten (``labeler.quality.label_errors.apply_reviews`` lays the verdicts over it).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone


from labeler.argilla import rest
from labeler.argilla.client import connect
from labeler.argilla.datasets import find_dataset
from labeler.argilla.push import ensure_dataset
from labeler.argilla.schema import ANSWER_NONE_WITH_LABELS, QUESTION, answer_labels, check_compatible, render_guidelines
from labeler.data import load_pool
from labeler.errors import LabelerError
from labeler.argilla.ownership import record
from labeler.loop.round import connection, dataset_spec, refuse_foreign
from labeler.project import Project
from labeler.quality.label_errors import (AMBIGUOUS, CHANGED, CONFIRMED, DECIDED, PENDING, decide, dumps, loads,
                                          read_reviews, review_path, show, tally, write_reviews)
from labeler.quality.suspects import Suspect
from labeler.words import plural

REVIEW_SUFFIX = "-review"
BULK = 500  # the server's maximum records per bulk upsert


# -- Argilla ---------------------------------------------------------------------------------------------
def review_spec(config):
    """The main dataset's spec, renamed ``<dataset>-review``: same workspace, labels and text fields."""

    base = dataset_spec(config, [], None, Project(config).load_labels())
    one = {"min_submitted": 1} if "min_submitted" in {f.name for f in dataclasses.fields(base)} else {}
    return dataclasses.replace(base, name=base.name + REVIEW_SUFFIX, signal_names=[], vector_dim=None, candidates=0,
                               **one)  # one answer per review record: a disagreement gets a new record


GUIDE_HEAD = """# Second review: suspected label errors

Every record here was labeled before, and a model trained on the other labels disagrees with that label.
Label it from the text alone, as if you were the first to see it: nothing is pre-selected and the first
answer is not shown, on purpose. If you gave this record its first label, leave it to someone else: your
answer would not count, since a second review must come from another annotator. Records are ordered by
`priority` (1 first). When two answers disagree the record comes back (as `<id>#2`, `<id>#3`) for another
opinion; until then it is left out of training.

"""


def _dataset(conn, spec, create: bool):
    """The review dataset (created with the review guidelines when ``create``), or None."""

    client = connect(conn)
    dataset = find_dataset(conn, spec.name, spec.workspace, client=client)
    if dataset is not None:
        check_compatible(dataset, spec)
        return dataset
    if not create:
        return None
    dataset, _ = ensure_dataset(conn, client, spec)
    labels = render_guidelines(spec, limit=10_000 - len(GUIDE_HEAD))
    guide = GUIDE_HEAD + labels[labels.index("## Labels"):]
    rest.request(conn, "PATCH", f"/api/v1/datasets/{dataset.id}", json={"guidelines": guide})
    search = " Type in the search box to find a label." if spec.has_search() else ""
    rest.request(conn, "PATCH", f"/api/v1/questions/{dataset.settings.questions[QUESTION].id}",
                 json={"description": f"{plural(len(spec.labels), 'label')}; nothing is pre-selected.{search}"})
    return dataset


def _server_records(conn, dataset) -> list[dict]:
    users = rest.usernames(conn)
    out = []
    for rec in rest.iter_records(conn, dataset.id, include="responses"):
        ext = rec.get("external_id") or rec["id"]
        of = str((rec.get("metadata") or {}).get("review_of") or ext)
        answers = [{"annotator": users.get(r["user_id"], r["user_id"]), "status": r["status"],
                    "value": (r.get("values") or {}).get(QUESTION, {}).get("value"), "updated_at": r.get("updated_at")}
                   for r in rec.get("responses") or []]
        for a in answers:  # multi-label "None of these" is the empty set; with labels, no opinion (a discard)
            if isinstance(a["value"], list):
                a["value"], kind = answer_labels(a["value"], None)
                if kind == ANSWER_NONE_WITH_LABELS and a["status"] == "submitted":
                    a["status"] = "discarded"
        out.append({"id": ext, "of": of, "status": rec.get("status"), "answers": answers})
    return out


def _own_records(project, conn, spec, dataset) -> list[dict]:
    """``_server_records``, once the review dataset is known to be the project's (``labeler.argilla.ownership``:
    the id recorded at its first push, else records reviewing the project's pool), recorded as its own."""
    records = _server_records(conn, dataset)
    state = project.read_state()
    refuse_foreign(state, conn, spec, str(dataset.id), {rec["of"] for rec in records}, project.pool_ids())
    if record(state, conn.url, spec.workspace, spec.name, dataset.id):
        project.write_state(state)
    return records


@dataclass
class ReviewReport:
    """Where the second review stands (``counts`` per verdict) and what this pull changed."""

    counts: dict[str, int] = field(default_factory=dict)
    changes: list[str] = field(default_factory=list)  # one line per label that changed (or changed back)
    newly: dict[str, int] = field(default_factory=dict)
    ambiguous: list[str] = field(default_factory=list)
    ignored_self: int = 0
    ignored_repeat: int = 0
    discarded: int = 0
    unknown: int = 0  # answered review records that review.parquet does not know

    def lines(self, shown: int = 10) -> list[str]:
        c = self.counts
        out = [f"second review: {c.get(CONFIRMED, 0)} confirmed, {c.get(CHANGED, 0)} changed, "
               f"{c.get(AMBIGUOUS, 0)} ambiguous, {c.get(PENDING, 0)} waiting for an answer"
               + ("; new since the last pull: " + ", ".join(f"{n} {s}" for s, n in self.newly.items())
                  if self.newly else "; nothing new since the last pull")]
        if self.changes:
            out.append("labels changed by the second review (the first answer stays in review.parquet):")
            out += [f"  {line}" for line in self.changes]
        if self.ambiguous:
            named = ", ".join(self.ambiguous[:shown]) + (f" and {len(self.ambiguous) - shown} more"
                                                         if len(self.ambiguous) > shown else "")
            out.append(f"ambiguous, left out of training until another opinion decides (`labeler review` "
                       f"asks for one): {named}")
        ignored = [f"{self.ignored_self} by the record's first annotator"] if self.ignored_self else []
        ignored += [f"{self.ignored_repeat} repeated by the same reviewer"] if self.ignored_repeat else []
        ignored += [f"{self.discarded} discarded"] if self.discarded else []
        if ignored:
            out.append("answers not counted: " + ", ".join(ignored))
        if self.unknown:
            out.append(f"{self.unknown} answered review records are not in review.parquet (pushed by another copy "
                       "of this project?); not used")
        return out


def _resolve(project, records: list[dict]) -> ReviewReport:
    """Verdicts from the server's answers into review.parquet; the report of what changed."""
    reviews = read_reviews(review_path(project))
    by_of: dict[str, list[dict]] = defaultdict(list)
    for rec in records:
        by_of[rec["of"]].extend(rec["answers"])
    report = ReviewReport()
    known = set(reviews["id"].astype(str))
    report.unknown = sum(1 for of, answers in by_of.items() if of not in known and answers)
    for i in reviews.index:
        row = reviews.loc[i]
        rid, first = str(row["id"]), loads(row["first_answer"])
        firsts = {a for a in str(row["first_annotator"] or "").split(",") if a}
        t = tally(firsts, by_of.get(rid, []))
        status, final = decide(first, [v for _, v in t.answers])
        report.ignored_self += t.ignored_self
        report.ignored_repeat += t.ignored_repeat
        report.discarded += t.discarded
        old_status, old_final = row["status"], loads(row["final_answer"])
        used = t.answers if status in DECIDED else []
        reviews.loc[i, ["status", "final_answer", "answers", "ignored"]] = [
            status, dumps(final), dumps([list(a) for a in t.answers]), t.ignored_self + t.ignored_repeat]
        for n, name in ((1, "second"), (2, "third")):
            a = t.answers[n - 1] if len(t.answers) >= n else (None, None)
            reviews.loc[i, [f"{name}_answer", f"{name}_annotator"]] = [dumps(a[1]), a[0]]
        if status != old_status:
            report.newly[status] = report.newly.get(status, 0) + 1
            stamps = [str(r.get("updated_at") or "") for r in by_of.get(rid, []) if r["status"] == "submitted"]
            reviews.loc[i, "decided_at"] = max(stamps) if used and stamps else None
        if CHANGED in (status, old_status) and (status, dumps(final)) != (old_status, dumps(old_final)):
            voices = "; ".join(f"{name} {a} said {show(v)}" for name, (a, v) in zip(("second", "third", "fourth"),
                                                                                  t.answers))
            now = f"now {show(final)}" if status == CHANGED else f"back to {show(first)} ({status})"
            report.changes.append(f"{rid}: {show(first)} -> {now} (first {row['first_annotator']}; {voices})")
        report.counts[status] = report.counts.get(status, 0) + 1
        if status == AMBIGUOUS:
            report.ambiguous.append(rid)
    write_reviews(review_path(project), reviews)
    return report


def pull_reviews(config, missing_ok: bool = False) -> ReviewReport | None:
    """Read every answer of the review dataset and write the verdicts to review.parquet (None when there is no
    review dataset yet and ``missing_ok``)."""

    spec = review_spec(config)
    conn = connection(config)
    dataset = _dataset(conn, spec, create=False)
    if dataset is None:
        if missing_ok:
            return None
        raise LabelerError(f"no review dataset {spec.name!r} on {conn.url}; run `labeler review` to send suspects")
    project = Project(config)
    return _resolve(project, _own_records(project, conn, spec, dataset))


@dataclass
class ReviewPush:
    dataset: str
    new: int = 0
    again: int = 0  # sent under a new id for another opinion
    refreshed: int = 0  # still open, priority refreshed
    pulled: ReviewReport | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"pushed to {self.dataset!r}: {self.new} new suspects, {self.again} sent again for another "
                f"opinion, {self.refreshed} still open (priority refreshed)")


def push_review(config, suspects: list[Suspect]) -> ReviewPush:
    """Pull first, then send: records needing another opinion (ambiguous first), the open ones, then
    ``suspects`` (lowest quality first), with priorities 1, 2, ... in that order."""

    project = Project(config)
    spec = review_spec(config)
    conn = connection(config)
    dataset = _dataset(conn, spec, create=True)
    records = _own_records(project, conn, spec, dataset)
    out = ReviewPush(dataset=spec.name, pulled=_resolve(project, records))
    reviews = read_reviews(review_path(project))
    pool = load_pool(config)
    where = {rid: i for i, rid in enumerate(pool.ids)}
    open_ids = {rec["of"]: rec["id"] for rec in records if rec["status"] == "pending"}
    taken = {rec["id"] for rec in records}
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    items, new_rows = [], []

    def item(rid: str, ext: str, meta: dict):
        fields = spec.field_names()
        rec = pool.records[where[rid]]
        items.append({"external_id": ext, "fields": {fields[c]: t for c, t in rec.fields.items() if c in fields},
                      "metadata": {"priority": len(items) + 1, "review_of": rid, **meta}})

    waiting = reviews[reviews["status"].isin([PENDING, AMBIGUOUS])]
    for i in sorted(waiting.index, key=lambda i: (waiting.at[i, "status"] != AMBIGUOUS, waiting.at[i, "quality"])):
        row = reviews.loc[i]
        rid = str(row["id"])
        if rid not in where:
            out.notes.append(f"{rid} is no longer in the pool; not sent again")
            continue
        meta = {"review_reason": row["reason"], "first_answer": show(loads(row["first_answer"])),
                "first_annotator": row["first_annotator"], "quality": float(row["quality"])}
        if rid in open_ids:
            item(rid, open_ids[rid], meta)
            out.refreshed += 1
            continue
        attempt = int(row["attempts"]) + 1
        while (ext := f"{rid}#{attempt}") in taken:
            attempt += 1
        answers = loads(row["answers"]) or []
        meta["review_reason"] = ("another opinion: " + ", ".join(f"{a} said {show(v)}" for a, v in answers)
                                 if answers else "no usable answer yet (the first annotator's own is not counted)")
        item(rid, ext, meta)
        reviews.loc[i, "attempts"] = attempt
        out.again += 1
    known = set(reviews["id"].astype(str))
    for s in suspects:
        if s.id not in where or s.id in known:
            continue
        known.add(s.id)
        item(s.id, s.id, {
            "review_reason": s.reason, "first_answer": show(s.given), "first_annotator": s.annotators,
            "quality": s.quality})
        new_rows.append({"id": s.id, "first_answer": dumps(s.given), "first_annotator": s.annotators,
                         "quality": s.quality, "suggested": dumps(s.suggested), "reason": s.reason,
                         "flagged": s.flagged, "pushed_at": now, "attempts": 1, "status": PENDING,
                         "answers": "[]", "ignored": 0})
        out.new += 1
    for start in range(0, len(items), BULK):
        rest.request(conn, "PUT", f"/api/v1/datasets/{dataset.id}/records/bulk",
                     json={"items": items[start:start + BULK]})
    if new_rows:
        import pandas as pd

        reviews = pd.concat([reviews, pd.DataFrame(new_rows, columns=reviews.columns)], ignore_index=True)
    write_reviews(review_path(project), reviews)
    return out


__all__ = ["ReviewPush", "ReviewReport", "pull_reviews", "push_review", "review_spec"]
