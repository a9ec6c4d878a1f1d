"""Tiny labelled texts shared by the training tests (30 short news snippets, 3 classes)."""

import pandas as pd

LABELS = ["sports", "business", "tech"]
TEXTS = {
    "sports": ["the team won the match", "a late goal decided the game", "the striker scored twice",
               "tennis final goes to five sets", "coach praises the defence", "the league title race tightens",
               "olympic sprinter breaks record", "fans cheer the home win", "the cup final was a draw",
               "the goalkeeper saved a penalty"],
    "business": ["shares fell after the earnings report", "the bank raised interest rates", "oil prices climb again",
                 "the company cut jobs", "markets rally on trade deal", "profits beat forecasts this quarter",
                 "the merger was approved", "investors sell bonds", "inflation slows in march",
                 "the retailer reported lower sales"],
    "tech": ["new smartphone has a faster chip", "the software update fixes bugs", "a startup builds ai models",
             "the laptop battery lasts longer", "researchers unveil a quantum computer", "the app adds encryption",
             "a new browser release is out", "the chipmaker shows a new processor", "cloud service suffers outage",
             "engineers release open source code"],
}


def make_labels(per_class: int = 10, multi: bool = False, start_round: int = 1) -> pd.DataFrame:
    rows = []
    for lab in LABELS:
        for j, text in enumerate(TEXTS[lab][:per_class]):
            labels = [lab] + (["tech"] if multi and lab == "business" and j % 3 == 0 else [])
            rows.append({
                "id": f"{lab}-{j}", "text": text, "label": lab, "labels": labels, "status": "submitted",
                "annotator": "ann", "submitted_at": pd.Timestamp("2024-01-01") + pd.Timedelta(minutes=len(rows)),
                "round": start_round + j // 5,
            })
    return pd.DataFrame(rows)
