"""Generate the Northwind Goods demo support-ticket corpus (tickets.jsonl).

Pure stdlib, seeded and deterministic: running
    python .ci/demo_corpus/make_demo_tickets.py [OUT]
rewrites labeler/demo/tickets.jsonl (or writes OUT) byte-for-byte identically. A generator, not runtime code:
the corpus it wrote ships as package data; tests/test_demo.py checks that the two still agree.

The fragments are in demo_ticket_fragments.py, the slot values, framing sentences and hand-written tickets
in demo_ticket_parts.py; every one was written for this project, and all names, companies, emails and
numbers are fictional.
"""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the text modules beside this file
from demo_ticket_fragments import FRAG  # noqa: E402
from demo_ticket_parts import (  # noqa: E402
    AMOUNTS, ANGRY, ASIDES, BROWSERS, CARRIERS, CLOSINGS, DATES, DEVICES, ERRORS, FIRST, GREETINGS, HANDWRITTEN,
    LAST, MONTHS, OPENERS, PLANS, POLITE, PRICES, PRODUCTS, SHOPS, SIGNOFF_EXTRA,
)

SEED = 20240611
PER_CLASS = 60
LABELS = [
    "billing",
    "technical_issue",
    "account_access",
    "shipping_delivery",
    "refund_request",
    "feature_request",
]
OUT = Path(__file__).resolve().parents[2] / "labeler" / "demo" / "tickets.jsonl"


def make_slots(rng: random.Random) -> dict:
    first = rng.choice(FIRST)
    last = rng.choice(LAST)
    plan = rng.choice(PLANS)
    p1, p2 = rng.sample(PRODUCTS, 2)
    d1, d2 = rng.sample(DATES, 2)
    carrier = rng.choice(CARRIERS)
    return {
        "first": first,
        "last": last,
        "shop": rng.choice(SHOPS),
        "email": f"{first.lower()}.{last.lower().replace(chr(39), '')}@example.com",
        "order": f"NW-{rng.randint(40000, 69999)}",
        "order2": f"NW-{rng.randint(40000, 69999)}",
        "invoice": f"INV-{rng.randint(10000, 39999)}",
        "rma": f"RMA-{rng.randint(20000, 29999)}",
        "ticket": f"#{rng.randint(100000, 999999)}",
        "plan": plan,
        "price": PRICES[plan],
        "product": p1,
        "product2": p2,
        "browser": rng.choice(BROWSERS),
        "device": rng.choice(DEVICES),
        "phone": rng.choice(["iPhone 13", "iPhone 15", "Pixel 7", "Samsung Galaxy S22", "OnePlus 11", "Moto G54", "iPad"]),
        "error": rng.choice(ERRORS),
        "carrier": carrier,
        "tracking": f"{carrier[:2].upper()}{rng.randint(10**9, 10**10 - 1)}",
        "date": d1,
        "date2": d2,
        "amount": rng.choice(AMOUNTS),
        "amount2": rng.choice(AMOUNTS),
        "days": str(rng.randint(3, 16)),
        "weeks": rng.choice(["two", "three", "2", "3", "almost four"]),
        "month": rng.choice(MONTHS),
        "card": str(rng.randint(1000, 9999)),
        "seats": str(rng.randint(3, 25)),
        "version": f"{rng.randint(3, 5)}.{rng.randint(0, 9)}.{rng.randint(0, 4)}",
        "years": str(rng.randint(2, 9)),
    }


# --------------------------------------------------------------------------
# Composition
# --------------------------------------------------------------------------
def add_typos(text: str, rng: random.Random, n: int) -> str:
    words = text.split(" ")
    idx = [i for i, w in enumerate(words) if w.isalpha() and w.islower() and len(w) >= 5]
    for i in rng.sample(idx, min(n, len(idx))):
        w = words[i]
        j = rng.randint(1, len(w) - 3)
        if rng.random() < 0.6:  # swap two adjacent letters
            w = w[:j] + w[j + 1] + w[j] + w[j + 2:]
        else:  # drop a letter
            w = w[:j] + w[j + 1:]
        words[i] = w
    return " ".join(words)


def parse(frag: str) -> tuple[str, str, list[str]]:
    """'[tag]text || Subject A || Subject B' -> (text, tag, [subjects])."""
    tg = ""
    if frag.startswith("["):
        tg, frag = frag[1:].split("]", 1)
    text, *subjects = frag.split(" || ")
    return text, tg, subjects


def compose(label: str, rng: random.Random) -> str:
    fr = FRAG[label]
    s = make_slots(rng)
    if label == "feature_request":
        feat, short = rng.choice(fr["features"])
        s["feature"], s["feature_short"] = feat, short

    style = rng.choices(["terse", "normal", "angry", "polite", "rambling"],
                        weights=[16, 38, 16, 18, 12])[0]
    problem, tg, own_subjects = parse(rng.choice(fr["problems"]))
    ok = lambda frag: not frag.startswith("[") or frag.startswith("[" + tg + "]")
    body = [problem]
    if style != "terse":
        details = [parse(d)[0] for d in fr["details"] if ok(d)]
        k = rng.choice([1, 1, 2, 2] if style != "rambling" else [2, 3])
        body += rng.sample(details, min(k, len(details)))
    if style == "rambling":
        body.insert(rng.randint(0, len(body)), rng.choice([
            "I've been using Northwind for a while and mostly it's been great.",
            "I'm not very technical so bear with me.",
            "My partner told me to just email you so here I am.",
            "We're a small shop and this is the busiest time of year for us.",
            "I also tried the chat but it kept disconnecting.",
        ]))
    if style == "angry":
        body += rng.sample(ANGRY, rng.choice([1, 2]))
    if rng.random() < 0.09:  # secondary topic mentioned in passing
        other = rng.choice([lab for lab in LABELS if lab != label])
        body.insert(rng.randint(1, len(body)), rng.choice(ASIDES[other]))
    body.append(parse(rng.choice([a for a in fr["asks"] if ok(a)]))[0])
    if style == "polite":
        body.append(rng.choice(POLITE))

    parts = []
    if rng.random() < (0.55 if style == "terse" else 0.75):
        pool = own_subjects if own_subjects and rng.random() < 0.7 else fr["subjects"]
        parts.append("Subject: " + rng.choice(pool))
        parts.append("")
    greet = style != "terse" and rng.random() < 0.8
    if greet:
        parts.append(rng.choice(GREETINGS))
        if rng.random() < 0.6:
            parts.append("")
        if style in ("polite", "rambling", "normal") and rng.random() < 0.35:
            body.insert(0, rng.choice(OPENERS))
    text_body = " ".join(body)
    if len(body) >= 4 and rng.random() < 0.5:  # split into two paragraphs
        k = rng.randint(2, len(body) - 1)
        text_body = " ".join(body[:k]) + "\n\n" + " ".join(body[k:])
    if style in ("terse", "angry") and rng.random() < 0.2:
        text_body = text_body.lower()
    if rng.random() < 0.25:
        text_body = add_typos(text_body, rng, rng.choice([1, 1, 2]))
    parts.append(text_body)

    if style != "terse" and rng.random() < 0.75:
        parts.append("")
        sig = rng.choice(CLOSINGS)
        r = rng.random()
        if r < 0.45:
            sig += "\n" + s["first"]
        elif r < 0.75:
            sig += "\n" + s["first"] + " " + s["last"]
        elif r < 0.9:
            sig += "\n" + s["first"] + " " + s["last"] + "\n" + s["shop"]
        parts.append(sig)
    elif style == "terse" and rng.random() < 0.3:
        parts[-1] += rng.choice([" - ", "\n", " thx, "]) + s["first"]
    extra = rng.choice(SIGNOFF_EXTRA)
    if extra and rng.random() < 0.5:
        parts.append("")
        parts.append(extra)

    text = "\n".join(parts).strip()
    return text.format_map(s)


def build() -> list[dict]:
    rng = random.Random(SEED)
    seen: set[str] = set()
    rows = []
    for label in LABELS:
        hand = HANDWRITTEN[label]
        for t in hand:
            assert t not in seen
            seen.add(t)
            rows.append({"text": t, "label": label})
        need = PER_CLASS - len(hand)
        while need:
            t = compose(label, rng)
            # reject exact duplicates and near-duplicates (same first 60 chars of body)
            key = t.split("\n\n", 1)[-1][:60].lower()
            if t in seen or key in seen:
                continue
            seen.add(t)
            seen.add(key)
            rows.append({"text": t, "label": label})
            need -= 1
    rng.shuffle(rows)
    return [{"id": f"T{i:04d}", "text": r["text"], "label": r["label"]} for i, r in enumerate(rows, 1)]


def main(out: Path = OUT) -> None:
    rows = build()
    with Path(out).open("w", encoding="utf-8", newline="\n") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} tickets to {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
