"""Reading configs: ``load_config(path, overrides)``, dotted ``--set`` overrides, one-line errors, fingerprints.

Every error is one ``LabelerError`` line that names the file and the key as a dotted path (list items by
index, the same spelling ``--set`` takes):

    configs/demo.yaml: unknown key 'queue.batch_sise' (did you mean 'batch_size'? valid keys: ...)
    configs/demo.yaml: queue.batch_size = -3: Input should be greater than 0

Paths in the file are relative to the file's folder.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from pathlib import Path
from typing import Any, Iterable

import yaml
from pydantic import BaseModel, ValidationError

from labeler.config.models import Config
from labeler.errors import LabelerError


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.safe_load``, except that a key given twice in one mapping is an error (PyYAML keeps the last one
    without a word: half of what the user wrote would be ignored)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"key {key!r} appears twice in one mapping",
                                                        key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


def load_config(path: str | Path, overrides: Iterable[str] = ()) -> Config:
    """Read, override and validate a YAML config.

    ``overrides`` are ``"dotted.key=value"`` strings (``queue.batch_size=64``, ``signals.0.weight=2``);
    the value is parsed as YAML (``true``, ``3``, ``null``, ``[a, b]``). Missing intermediate mappings are
    created; list items are addressed by index. Raises ``LabelerError`` (one line) on any problem.
    """
    path = Path(path)
    if not path.is_file():
        raise LabelerError(f"config file not found: {path}")
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except UnicodeDecodeError as exc:
        raise LabelerError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise LabelerError(f"{path}: invalid YAML{where}: {problem}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise LabelerError(f"{path}: the top level must be a mapping of sections, got {type(raw).__name__}")
    overrides = list(overrides)
    for item in overrides:
        _apply_override(raw, item, path)
    return validate_config(raw, path, overrides)


def parse_override(item: str) -> tuple[list[str], Any]:
    """``"a.b.0=value"`` -> (``["a", "b", "0"]``, YAML-parsed value)."""
    key, sep, text = item.partition("=")
    keys = key.strip().split(".")
    if not sep or not all(k.strip() for k in keys):
        raise LabelerError(f"bad override {item!r}: expected dotted.key=value, e.g. queue.batch_size=64")
    try:
        value = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError:
        value = text
    return [k.strip() for k in keys], value


def _apply_override(raw: dict, item: str, path: Path) -> None:
    keys, value = parse_override(item)
    node: Any = raw
    for depth, key in enumerate(keys):
        last = depth == len(keys) - 1
        where = ".".join(keys[: depth + 1])
        if isinstance(node, list):
            if not key.isdigit() or int(key) >= len(node):
                raise LabelerError(
                    f"{path}: --set {item!r}: {where} is not an item of the {len(node)}-item list "
                    f"{'.'.join(keys[:depth]) or 'config'}"
                )
            key = int(key)
        elif not isinstance(node, dict):
            raise LabelerError(f"{path}: --set {item!r}: {'.'.join(keys[:depth])} is not a mapping or list")
        if last:
            node[key] = value
        else:
            if isinstance(node, dict) and node.get(key) is None:
                node[key] = [] if keys[depth + 1].isdigit() else {}
            node = node[key]


# keys that moved: (section, key) of a config written before -> where it lives now; read from either place
MOVED = {("watch", "retrain_after"): ("training", "retrain_after")}


def _move_keys(raw: dict) -> dict:
    """``raw`` with each key of ``MOVED`` at its new place (the new place wins where a config sets both)."""
    raw = dict(raw)
    for (old, key), (new, new_key) in MOVED.items():
        if isinstance(raw.get(old), dict) and key in raw[old]:
            section = dict(raw[old])
            value = section.pop(key)
            raw[old] = section
            if raw.get(new) is None or isinstance(raw[new], dict):
                raw[new] = {new_key: value, **(raw.get(new) or {})}
    return raw


def validate_config(raw: dict, path: str | Path, overrides: Iterable[str] = ()) -> Config:
    """Validate an already-parsed config mapping as if read from ``path`` (paths resolve against its folder)."""
    path, overrides, raw = Path(path), list(overrides), _move_keys(raw)
    try:
        config = Config.model_validate(raw, context={"path": str(path)})
    except ValidationError as exc:
        problems = [_describe(err, Config) for err in exc.errors()]
        raise LabelerError(_one_line(path, problems, overrides)) from None
    _check_signal_params(config, path)
    return config


def _describe(err: dict, root: type[BaseModel]) -> str:
    """One pydantic error -> ``key = value: message`` (or ``unknown key 'x.y' (...)``)."""
    loc = [str(p) for p in err["loc"]]
    where = ".".join(loc)
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        valid = _valid_keys(root, loc[:-1])
        hint = difflib.get_close_matches(loc[-1], valid, n=1)
        did = f"did you mean {hint[0]!r}? " if hint else ""
        return f"unknown key {where!r} ({did}valid keys: {', '.join(valid)})"
    if err["type"] == "missing":
        return f"missing key {where!r}"
    if not loc:
        return msg
    value = err.get("input")
    if isinstance(value, (dict, list)):
        return f"{where}: {msg}"
    return f"{where} = {value!r}: {msg}"


def _valid_keys(root: type[BaseModel], loc: list[str]) -> list[str]:
    """The fields of the model found at ``loc`` (list indices and dict keys skipped)."""
    model: Any = root
    for part in loc:
        if part.isdigit():
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        model = _model_of(field.annotation)
    return list(getattr(model, "model_fields", {}))


def _model_of(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _one_line(path: Path, problems: list[str], overrides: list[str]) -> str:
    extra = f" (with --set {', '.join(overrides)})" if overrides else ""
    head = f"{path}{extra}: "
    if len(problems) == 1:
        return head + problems[0]
    return head + f"{len(problems)} problems: " + "; ".join(problems)


def _check_signal_params(config: Config, path: Path) -> None:
    """Ask ``labeler.signals.catalog`` to check each signal's type and params (skipped if it is absent)."""
    try:
        from labeler.signals import catalog
    except ModuleNotFoundError as exc:
        if exc.name in ("labeler.signals.catalog", "labeler.signals"):
            return
        raise
    for i, spec in enumerate(config.signals):
        try:
            catalog.validate_params(spec.type, dict(spec.params), multi_label=config.task.multi_label)
        except ValidationError as exc:
            problems = [_describe(err, BaseModel) for err in exc.errors()]
            raise LabelerError(f"{path}: signals.{i} ({spec.type}): bad params: {'; '.join(problems)}") from None
        except (LabelerError, ValueError, KeyError, TypeError) as exc:
            message = " ".join(str(exc.args[0] if isinstance(exc, KeyError) and exc.args else exc).split())
            raise LabelerError(f"{path}: signals.{i} ({spec.type}): {message}") from None


# -- fingerprint --------------------------------------------------------------------------------------
def config_fingerprint(config: Config, sections: Iterable[str] | None = None) -> str:
    """16-hex sha256 of the (chosen) sections' canonical JSON; equal configs give equal fingerprints.

    ``sections=None`` covers every section except ``project`` and ``argilla`` (and ``training.runs_dir``),
    which never change results.
    """
    dump = config.model_dump(mode="json")
    names = list(sections) if sections is not None else [k for k in dump if k not in ("project", "argilla")]
    unknown = [n for n in names if n not in dump]
    if unknown:
        raise ValueError(f"unknown config sections {unknown}; valid: {list(dump)}")
    chosen = {n: dump[n] for n in names}
    if "training" in chosen:  # where runs are stored never changes results
        chosen["training"] = {k: v for k, v in chosen["training"].items() if k != "runs_dir"}
    payload = json.dumps(chosen, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]
