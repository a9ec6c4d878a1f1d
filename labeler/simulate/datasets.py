"""The labeled benchmark data sets ``labeler simulate --dataset NAME`` knows, with short label descriptions.

Each entry says where the rows live (relative to the shared data folder, ``<repo>/../shared/datasets``
by default), which rows form the fixed held-out evaluation split (never queried), and a short description
per label that the embedding zero-shot signal embeds with the label name.

=================  ======================================  ===========================================
name               pool (queried)                          eval (held out)
=================  ======================================  ===========================================
``ag_news``        ``ag_news/test_all.jsonl`` split=pool   split=eval (every 5th row per class; 1,520)
``banking77``      ``banking77/train.jsonl`` (10,003)      ``banking77/test.jsonl`` (3,080)
``sms_spam``       ``sms_spam/all.jsonl`` split=pool       split=eval (1,114)
``nlupp_banking``  ``nlupp/banking.jsonl`` folds 2-19      folds 0-1 (multi-label, 48 intents)
=================  ======================================  ===========================================

Descriptions: AG News and SMS spam written for this module; BANKING77 the same hand-written customer-style
phrasings as ``bench/signal_descriptions.py`` (kept in sync by hand; the bench is not importable from the
package); NLU++ from the source's own ``ontology.json`` ("is the intent to affirm something?" becomes
"to affirm something"), read at run time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from labeler.errors import LabelerError

REPO = Path(__file__).resolve().parents[1]
SHARED_DATASETS = (REPO / ".." / "shared" / "datasets").resolve()


@dataclass(frozen=True)
class Row:
    id: str
    text: str
    label: str | list[str]


@dataclass(frozen=True)
class DatasetSpec:
    """A named data set: ``load(root) -> (pool rows, eval rows)`` and the label descriptions."""

    name: str
    multi_label: bool
    primary_metric: str  # what the curves lead with: accuracy, spam_f1 or micro_f1
    loader: Callable[[Path], tuple[list[Row], list[Row]]]
    descriptions: Callable[[Path], dict[str, str]]
    positive_label: str | None = None  # sms_spam: the class whose F1 is reported

    def load(self, root: str | Path | None = None) -> tuple[list[Row], list[Row]]:
        root = Path(root) if root is not None else SHARED_DATASETS
        if not root.exists():
            raise LabelerError(f"shared data sets not found at {root} (expected <repo>/../shared/datasets)")
        return self.loader(root)


AG_NEWS = {
    "World": "news about international politics, governments, wars, elections and diplomacy",
    "Sports": "news about games, teams, players, matches, leagues and tournaments",
    "Business": "news about companies, markets, stocks, earnings, oil prices and the economy",
    "Sci/Tech": "news about science, technology, computers, software, the internet and space",
}

SMS_SPAM = {
    "ham": "a personal text message between friends or family about everyday life, plans and feelings",
    "spam": "an unsolicited advertising text: you have won a prize, free offer, claim now, call or text this number",
}

# Customer-style phrasings (same text as bench/signal_descriptions.py).
BANKING77 = {
    'card_arrival': 'my new card has not arrived yet, when will it come',
    'card_linking': 'how do I link my existing card to the app',
    'exchange_rate': 'what exchange rate do you use for currencies',
    'card_payment_wrong_exchange_rate': 'the exchange rate on my card payment abroad was wrong',
    'extra_charge_on_statement': "there is an extra fee or charge on my statement I don't understand",
    'pending_cash_withdrawal': 'my cash withdrawal from the ATM is still pending',
    'fiat_currency_support': 'which fiat currencies can I hold and exchange',
    'card_delivery_estimate': 'how long does card delivery take',
    'automatic_top_up': 'how does automatic top-up (auto top up) work',
    'card_not_working': 'my card is not working',
    'exchange_via_app': 'can I exchange currency in the app',
    'lost_or_stolen_card': 'my card was lost or stolen',
    'age_limit': 'how old do I have to be to open an account, age requirement',
    'pin_blocked': 'my PIN is blocked after too many wrong attempts',
    'contactless_not_working': 'contactless payment with my card is not working',
    'top_up_by_bank_transfer_charge': 'is there a fee to top up by bank transfer',
    'pending_top_up': 'my top-up is still pending',
    'cancel_transfer': 'I want to cancel a transfer I made',
    'top_up_limits': 'what is the maximum amount I can top up, top-up limit',
    'wrong_amount_of_cash_received': 'the ATM gave me the wrong amount of cash',
    'card_payment_fee_charged': 'I was charged a fee for a card payment',
    'transfer_not_received_by_recipient': 'the recipient has not received my transfer',
    'supported_cards_and_currencies': 'which cards and currencies are supported',
    'getting_virtual_card': 'how do I get a virtual card',
    'card_acceptance': 'where is my card accepted, can I use it in shops',
    'top_up_reverted': 'my top-up was reverted or cancelled',
    'balance_not_updated_after_cheque_or_cash_deposit': 'my balance did not update after I deposited a cheque or cash',
    'card_payment_not_recognised': "there is a card payment I don't recognise",
    'edit_personal_details': 'how do I change my personal details, name or address',
    'why_verify_identity': 'why do I need to verify my identity',
    'unable_to_verify_identity': "I can't verify my identity, the verification fails",
    'get_physical_card': 'how do I get a physical card',
    'visa_or_mastercard': 'is the card Visa or Mastercard',
    'topping_up_by_card': 'how do I top up with my debit or credit card',
    'disposable_card_limits': 'how many times can I use a disposable virtual card, limits',
    'compromised_card': 'my card may be compromised, someone else used my card details',
    'atm_support': 'which ATMs can I use to withdraw cash',
    'direct_debit_payment_not_recognised': "there is a direct debit payment I don't recognise",
    'passcode_forgotten': 'I forgot my passcode for the app',
    'declined_cash_withdrawal': 'the ATM declined my cash withdrawal',
    'pending_card_payment': 'my card payment is still pending',
    'lost_or_stolen_phone': 'my phone was lost or stolen',
    'request_refund': 'I want to request a refund for a purchase',
    'declined_transfer': 'my transfer was declined',
    'Refund_not_showing_up': 'my refund is not showing up in my account',
    'declined_card_payment': 'my card payment was declined',
    'pending_transfer': 'my transfer is still pending',
    'terminate_account': 'I want to close or delete my account',
    'card_swallowed': 'the ATM swallowed (kept) my card',
    'transaction_charged_twice': 'I was charged twice for the same transaction',
    'verify_source_of_funds': 'how do I prove the source of my funds',
    'transfer_timing': 'how long does a transfer take to arrive',
    'reverted_card_payment?': 'a card payment was reverted or returned',
    'change_pin': 'how do I change my PIN',
    'beneficiary_not_allowed': "I can't add a beneficiary, it's not allowed",
    'transfer_fee_charged': 'I was charged a fee for a transfer',
    'receiving_money': 'how do I receive money into my account',
    'failed_transfer': 'my transfer failed',
    'transfer_into_account': 'how do I transfer money into my account',
    'verify_top_up': 'how do I verify my top-up, verification code for top up',
    'getting_spare_card': 'can I get a second or spare card',
    'top_up_by_cash_or_cheque': 'can I top up with cash or a cheque',
    'order_physical_card': 'I want to order a physical card',
    'virtual_card_not_working': 'my virtual card is not working',
    'wrong_exchange_rate_for_cash_withdrawal': 'the exchange rate for my cash withdrawal abroad was wrong',
    'get_disposable_virtual_card': 'how do I get a disposable virtual card',
    'top_up_failed': 'my top-up failed',
    'balance_not_updated_after_bank_transfer': 'my balance did not update after a bank transfer',
    'cash_withdrawal_not_recognised': "there is a cash withdrawal I don't recognise",
    'exchange_charge': 'is there a fee for exchanging currency',
    'top_up_by_card_charge': 'is there a fee to top up by card',
    'activate_my_card': 'how do I activate my card',
    'cash_withdrawal_charge': 'I was charged a fee for a cash withdrawal',
    'card_about_to_expire': 'my card is about to expire, how do I get a new one',
    'apple_pay_or_google_pay': 'can I use Apple Pay or Google Pay',
    'verify_my_identity': 'how do I verify my identity',
    'country_support': 'which countries are supported',
}


def _jsonl(path: Path) -> list[dict]:
    if not path.exists():
        raise LabelerError(f"data file not found: {path}")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _split_field(file: str, label_key: str = "label") -> Callable[[Path], tuple[list[Row], list[Row]]]:
    def load(root: Path):
        pool, held = [], []
        for i, r in enumerate(_jsonl(root / file)):
            row = Row(str(r.get("id", i)), r["text"], r[label_key])
            (held if r["split"] == "eval" else pool).append(row)
        return pool, held

    return load


def _banking77(root: Path):
    def rows(name: str) -> list[Row]:
        return [Row(f"{name}-{i}", r["text"], r["label"]) for i, r in enumerate(_jsonl(root / "banking77" / f"{name}.jsonl"))]

    return rows("train"), rows("test")


def _nlupp_banking(root: Path):
    pool, held = [], []
    for i, r in enumerate(_jsonl(root / "nlupp" / "banking.jsonl")):
        row = Row(f"nlupp-{i}", r["text"], list(r["labels"]))
        (held if int(r["fold"]) in (0, 1) else pool).append(row)
    return pool, held


def _nlupp_descriptions(root: Path) -> dict[str, str]:
    path = root / "nlupp" / "original" / "data" / "ontology.json"
    if not path.exists():
        return {}
    intents = json.loads(path.read_text(encoding="utf-8")).get("intents", {})
    out = {}
    for name, info in intents.items():
        text = str(info.get("description", "")).strip().rstrip("?")
        for prefix in ("is the intent ", "is the intend ", "is the "):
            if text.lower().startswith(prefix):
                text = text[len(prefix):]
                break
        out[name] = text
    return out


DATASETS: dict[str, DatasetSpec] = {
    "ag_news": DatasetSpec("ag_news", False, "accuracy", _split_field("ag_news/test_all.jsonl"), lambda root: AG_NEWS),
    "banking77": DatasetSpec("banking77", False, "accuracy", _banking77, lambda root: BANKING77),
    "sms_spam": DatasetSpec("sms_spam", False, "spam_f1", _split_field("sms_spam/all.jsonl"), lambda root: SMS_SPAM,
                            positive_label="spam"),
    "nlupp_banking": DatasetSpec("nlupp_banking", True, "micro_f1", _nlupp_banking, _nlupp_descriptions),
}


def get_dataset(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise LabelerError(f"unknown dataset {name!r}; valid: {', '.join(DATASETS)}") from None
