"""Config loading: defaults, typos and bad values as one line naming key and file, overrides, examples."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labeler.config import Config, config_fingerprint, load_config, parse_override
from labeler.errors import LabelerError
from labeler.loop.strategies import STRATEGIES

REPO = Path(__file__).resolve().parents[1]
MINIMAL = {"data": {"path": "data.jsonl"}, "task": {"labels": ["spam", "ham"]}}


def write(tmp_path: Path, raw, name: str = "project.yaml") -> Path:
    path = tmp_path / name
    path.write_text(raw if isinstance(raw, str) else yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def error_of(path: Path, overrides=()) -> str:
    with pytest.raises(LabelerError) as info:
        load_config(path, overrides)
    message = str(info.value)
    assert "\n" not in message
    return message


def with_(**sections) -> dict:
    raw = yaml.safe_load(yaml.safe_dump(MINIMAL))
    for key, value in sections.items():
        raw[key] = value
    return raw


# -- defaults -----------------------------------------------------------------------------------------
def test_minimal_config_fills_defaults_from_the_file(tmp_path):
    config = load_config(write(tmp_path, MINIMAL, "tickets.yaml"))
    assert config.data.path == tmp_path / "data.jsonl"
    assert config.data.text_fields == ["text"]
    assert config.data.format == "auto" and config.data.max_chars == 20_000
    assert config.label_names == ["spam", "ham"]
    assert config.task.multi_label is False and config.task.threshold == 0.5
    assert config.signals == []
    assert config.ensemble.method == "weighted_mean"
    assert (config.ensemble.min_labels_for_stacking, config.ensemble.cv_folds) == (30, 5)
    assert config.queue.strategy == "margin"
    assert (config.queue.batch_size, config.queue.exploration, config.queue.diversity, config.queue.seed) == (50, 0.0, 0.0, 0)
    assert (config.queue.cold_start, config.queue.queue_with, config.queue.coverage, config.queue.gold_share) == (True, "model", 0.5, 0.2)
    assert (config.training.weak_labels.fraction, config.training.weak_labels.weight, config.training.weak_labels.until) == (0.05, 0.3, None)
    assert config.argilla.url is None and config.argilla.api_key_env == "ARGILLA_API_KEY"
    assert config.argilla.dataset == "tickets"
    assert config.project.dir == tmp_path / ".labeler" / "tickets"
    assert config.project.name == "tickets"


def test_relative_paths_resolve_against_the_config_folder(tmp_path):
    (tmp_path / "configs").mkdir()
    raw = with_(data={"path": "../data/x.csv"}, project={"dir": "state"})
    config = load_config(write(tmp_path / "configs", raw))
    assert config.data.path == tmp_path / "data" / "x.csv"
    assert config.project.dir == tmp_path / "configs" / "state"
    raw["data"]["path"] = str(tmp_path / "abs.csv")
    assert load_config(write(tmp_path, raw)).data.path == tmp_path / "abs.csv"


def test_multi_label_defaults_to_threshold_distance_and_allows_one_label(tmp_path):
    config = load_config(write(tmp_path, with_(task={"labels": ["urgent"], "multi_label": True})))
    assert config.queue.strategy == "threshold_distance"
    assert config.label_names == ["urgent"]


def test_labels_as_strings_or_mappings_with_descriptions(tmp_path):
    labels = ["  billing ", {"name": "tech, issues", "description": " Broken things. "}, "Zahlungsverzug é", "退款",
              {"name": "with space", "description": ""}, 5]
    config = load_config(write(tmp_path, with_(task={"labels": labels})))
    assert config.label_names == ["billing", "tech, issues", "Zahlungsverzug é", "退款", "with space", "5"]
    assert config.label_descriptions["tech, issues"] == "Broken things."
    assert config.label_descriptions["with space"] is None


def test_two_hundred_labels(tmp_path):
    names = [f"intent {i:03d}" for i in range(200)]
    assert load_config(write(tmp_path, with_(task={"labels": names}))).label_names == names


def test_signal_names_default_to_type(tmp_path):
    raw = with_(signals=[{"type": "embedding"}, {"type": "keywords", "name": "kw", "weight": 0.5,
                                                 "params": {"keywords": {"spam": ["free"]}}}])
    config = load_config(write(tmp_path, raw))
    assert [s.name for s in config.signals] == ["embedding", "kw"]
    assert [s.weight for s in config.signals] == [1.0, 0.5]


# -- errors: one line, key and file -------------------------------------------------------------------
@pytest.mark.parametrize(
    "sections, key, hint",
    [
        ({"qeue": {}}, "'qeue'", "did you mean 'queue'"),
        ({"queue": {"batch_sise": 3}}, "'queue.batch_sise'", "did you mean 'batch_size'"),
        ({"data": {"path": "x.csv", "text_field": "body"}}, "'data.text_field'", "did you mean 'text_fields'"),
        ({"signals": [{"type": "embedding", "wieght": 2}]}, "'signals.0.wieght'", "did you mean 'weight'"),
        ({"task": {"labels": [{"name": "a", "desc": "x"}, "b"]}}, "'task.labels.0.desc'", "valid keys: name, description"),
    ],
)
def test_a_typo_names_the_dotted_key_and_the_file(tmp_path, sections, key, hint):
    path = write(tmp_path, with_(**sections))
    message = error_of(path)
    assert message.startswith(str(path))
    assert f"unknown key {key}" in message
    assert hint in message


@pytest.mark.parametrize(
    "sections, expected",
    [
        ({"queue": {"batch_size": 0}}, "queue.batch_size = 0: Input should be greater than 0"),
        ({"queue": {"exploration": 1.5}}, "queue.exploration = 1.5: Input should be less than or equal to 1"),
        ({"queue": {"diversity": -0.1}}, "queue.diversity = -0.1"),
        ({"signals": [{"type": "embedding", "weight": -1}]}, "signals.0.weight = -1"),
        ({"ensemble": {"method": "vote"}}, "ensemble.method = 'vote'"),
        ({"data": {"path": "x", "format": "xls"}}, "data.format = 'xls'"),
        ({"task": {"labels": ["a", "b"], "threshold": 1.0}}, "task.threshold = 1.0"),
        ({"task": {"labels": ["a", "b"], "multi_label": "maybe"}}, "task.multi_label = 'maybe'"),
    ],
)
def test_a_bad_value_names_key_value_and_file(tmp_path, sections, expected):
    path = write(tmp_path, with_(**sections))
    message = error_of(path)
    assert str(path) in message and expected in message


@pytest.mark.parametrize(
    "labels, multi, expected",
    [
        (["only"], False, "single-label task needs at least 2 labels, got 1 ('only' or not is a tagging task: "
                          "task.multi_label: true, or init --multi-label)"),
        ([], True, "multi-label task needs at least 1 label, got 0"),
        (["a", "b", "a"], False, "duplicate label names: 'a'"),
        (["a", " a "], False, "duplicate label names: 'a'"),
        (["a", "  "], False, "label names must not be empty"),
        (["a", True], False, "quote it"),
    ],
)
def test_label_rules(tmp_path, labels, multi, expected):
    message = error_of(write(tmp_path, with_(task={"labels": labels, "multi_label": multi})))
    assert expected in message


def test_labels_are_case_sensitive(tmp_path):
    assert load_config(write(tmp_path, with_(task={"labels": ["Spam", "spam"]}))).label_names == ["Spam", "spam"]


def test_missing_sections_are_named(tmp_path):
    message = error_of(write(tmp_path, {"data": {"path": "x"}}))
    assert "missing key 'task'" in message
    message = error_of(write(tmp_path, "# nothing yet\n"))
    assert "2 problems" in message and "missing key 'data'" in message and "missing key 'task'" in message


def test_api_key_in_yaml_is_refused_with_a_pointer_to_the_environment(tmp_path):
    message = error_of(write(tmp_path, with_(argilla={"api_key": "argilla.apikey"})))
    assert "environment variable" in message and "api_key_env" in message
    assert "argilla.apikey" not in message  # never echo the secret
    message = error_of(write(tmp_path, with_(argilla={"api_key_env": "sk-12345 secret"})))
    assert "argilla.api_key_env" in message and "NAME of an environment variable" in message


def test_argilla_url_must_be_http(tmp_path):
    assert "argilla.url = 'localhost:6900'" in error_of(write(tmp_path, with_(argilla={"url": "localhost:6900"})))
    config = load_config(write(tmp_path, with_(argilla={"url": "http://localhost:6900/", "workspace": "w"})))
    assert config.argilla.url == "http://localhost:6900"


def test_unknown_strategy_lists_the_valid_ones(tmp_path):
    message = error_of(write(tmp_path, with_(queue={"strategy": "bogus"})))
    assert "queue.strategy = 'bogus'" in message
    assert all(name in message for name in (*STRATEGIES, "random"))
    assert load_config(write(tmp_path, with_(queue={"strategy": "random"}))).queue.strategy == "random"


def test_strategy_must_fit_the_task(tmp_path):
    message = error_of(write(tmp_path, with_(queue={"strategy": "margin"}, task={"labels": ["a"], "multi_label": True})))
    assert "does not fit a multi-label task" in message and "threshold_distance" in message
    message = error_of(write(tmp_path, with_(queue={"strategy": "threshold_distance"})))
    assert "does not fit a single-label task" in message


def test_duplicate_signal_names(tmp_path):
    message = error_of(write(tmp_path, with_(signals=[{"type": "embedding"}, {"type": "embedding"}])))
    assert "duplicate signal name 'embedding' at signals.1" in message


def test_data_fields_rules(tmp_path):
    config = load_config(write(tmp_path, with_(data={"path": "x", "text_fields": "body"})))
    assert config.data.text_fields == ["body"]
    assert "text fields must be distinct" in error_of(write(tmp_path, with_(data={"path": "x", "text_fields": ["a", "a"]})))
    assert "id_field 'body' is also a text field" in error_of(
        write(tmp_path, with_(data={"path": "x", "text_fields": ["body"], "id_field": "body"})))
    assert "data.text_fields" in error_of(write(tmp_path, with_(data={"path": "x", "text_fields": []})))


def test_file_level_errors(tmp_path):
    assert "config file not found" in error_of(tmp_path / "nope.yaml")
    message = error_of(write(tmp_path, "data:\n  path: [unclosed\n"))
    assert "invalid YAML at line" in message
    assert "top level must be a mapping" in error_of(write(tmp_path, "- a\n- b\n"))
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"data: {path: caf\xe9}\n")
    assert "not UTF-8" in error_of(bad)


# -- signal params via the registry -------------------------------------------------------------------
@pytest.fixture
def fake_catalog(monkeypatch):
    """A stand-in ``labeler.signals.catalog`` so the wrapping is tested whatever the real one does."""
    module = types.ModuleType("labeler.signals.catalog")

    def validate_params(type_name, params, multi_label=False):
        if type_name not in ("embedding", "nli"):
            raise ValueError(f"unknown signal type {type_name!r} (valid: embedding, nli)")
        unknown = sorted(set(params) - {"model"})
        if unknown:
            raise KeyError(f"unknown params {unknown} (valid: model)")
        return params

    module.validate_params = validate_params
    import labeler.signals

    monkeypatch.setitem(sys.modules, "labeler.signals.catalog", module)
    monkeypatch.setattr(labeler.signals, "catalog", module, raising=False)
    return module


def test_signal_params_errors_are_wrapped_with_file_and_index(tmp_path, fake_catalog):
    path = write(tmp_path, with_(signals=[{"type": "embedding"}, {"type": "embeding"}]))
    message = error_of(path)
    assert message == f"{path}: signals.1 (embeding): unknown signal type 'embeding' (valid: embedding, nli)"
    path = write(tmp_path, with_(signals=[{"type": "nli", "params": {"modle": "x"}}]))
    assert error_of(path) == f"{path}: signals.0 (nli): unknown params ['modle'] (valid: model)"


def test_signal_params_are_checked_by_the_real_registry_when_present(tmp_path):
    message = error_of(write(tmp_path, with_(signals=[{"type": "embeding"}])))
    assert "signals.0" in message and "embedding" in message and "nli" in message and "keywords" in message
    message = error_of(write(tmp_path, with_(signals=[{"type": "nli", "params": {"model": "m", "batch_sise": 2}}])))
    assert "signals.0 (nli)" in message and "batch_sise" in message


def test_a_single_label_only_signal_is_refused_in_a_multi_label_task_at_load(tmp_path):
    raw = with_(signals=[{"type": "embedding"}, {"type": "templated"}])
    raw["task"] = {**raw.get("task", {}), "multi_label": True}
    path = write(tmp_path, raw)
    assert error_of(path) == (f"{path}: signals.1 (templated): type templated is single-label only (one softmax "
                              f"over the labels) and task.multi_label is true: use type: embedding")
    raw["task"]["multi_label"] = False
    assert [s.type for s in load_config(write(tmp_path, raw)).signals] == ["embedding", "templated"]


# -- overrides ----------------------------------------------------------------------------------------
def test_overrides_set_scalars_lists_and_new_sections(tmp_path):
    raw = with_(signals=[{"type": "embedding"}, {"type": "nli", "params": {"model": "m"}}])
    config = load_config(write(tmp_path, raw), [
        "queue.batch_size=64", "signals.1.weight=2", "task.multi_label=true", "argilla.url=http://h:1",
        "data.text_fields=[subject, body]", "queue.strategy=disagreement", "argilla.workspace=null",
        "signals.0.params.temperature=0.05",
    ])
    assert config.queue.batch_size == 64
    assert config.signals[1].weight == 2.0
    assert config.task.multi_label is True
    assert config.argilla.url == "http://h:1"
    assert config.data.text_fields == ["subject", "body"]
    assert config.queue.strategy == "disagreement"
    assert config.signals[0].params == {"temperature": 0.05}


def test_override_values_are_yaml_scalars(tmp_path):
    config = load_config(write(tmp_path, MINIMAL), ["project.name=2024", "argilla.dataset='007'", "queue.seed=7"])
    assert config.project.name == "2024" and config.argilla.dataset == "007" and config.queue.seed == 7
    assert parse_override("a.b=") == (["a", "b"], None)
    assert parse_override(" a . b = x=y ") == (["a", "b"], "x=y")


@pytest.mark.parametrize(
    "override, expected",
    [
        ("queue.batch_size", "expected dotted.key=value"),
        ("=3", "expected dotted.key=value"),
        ("queue..batch_size=3", "expected dotted.key=value"),
        ("signals.5.weight=2", "signals.5 is not an item of the 0-item list signals"),
        ("task.labels.x=2", "task.labels.x is not an item of the 2-item list task.labels"),
        ("queue.batch_size.x=2", "queue.batch_size is not a mapping or list"),
    ],
)
def test_bad_overrides(tmp_path, override, expected):
    raw = with_(queue={"batch_size": 3})
    assert expected in error_of(write(tmp_path, raw), [override])


def test_an_override_typo_names_the_key_and_the_override(tmp_path):
    path = write(tmp_path, MINIMAL)
    message = error_of(path, ["queue.bach_size=3"])
    assert message.startswith(f"{path} (with --set queue.bach_size=3): unknown key 'queue.bach_size'")
    assert "queue.batch_size = -3" in error_of(path, ["queue.batch_size=-3"])


# -- fingerprints -------------------------------------------------------------------------------------
def test_config_fingerprint(tmp_path):
    path = write(tmp_path, MINIMAL)
    a, b = load_config(path), load_config(path)
    assert config_fingerprint(a) == config_fingerprint(b) and len(config_fingerprint(a)) == 16
    assert config_fingerprint(load_config(path, ["queue.seed=1"])) != config_fingerprint(a)
    assert config_fingerprint(load_config(path, ["argilla.workspace=w"])) == config_fingerprint(a)
    assert config_fingerprint(load_config(path, ["queue.seed=1"]), ["task"]) == config_fingerprint(a, ["task"])
    with pytest.raises(ValueError, match="unknown config sections"):
        config_fingerprint(a, ["nope"])


# -- the shipped configs ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["demo.yaml", "examples/nli_hub.yaml", "examples/multi_label.yaml",
                                  "examples/several_fields.yaml", "examples/long_texts.yaml"])
def test_shipped_configs_load(name):
    config = load_config(REPO / "configs" / name)  # params are checked too when the registry imports
    assert isinstance(config, Config) and config.signals


def test_demo_config_content():
    config = load_config(REPO / "configs" / "demo.yaml")
    assert config.label_names == ["billing", "technical_issue", "account_access", "shipping_delivery",
                                  "refund_request", "feature_request"]
    assert all(config.label_descriptions.values())
    assert config.data.path == REPO / "labeler" / "demo" / "tickets.jsonl"
    assert (config.data.id_field, config.data.label_field) == ("id", "label")
    assert [(s.type, s.weight) for s in config.signals] == [("embedding", 1.0), ("keywords", 0.5)]
    assert set(config.signals[1].params["keywords"]) == set(config.label_names)
    assert (config.queue.strategy, config.queue.batch_size, config.task.multi_label) == ("margin", 40, False)


def test_examples_use_the_agreed_param_names():
    nli = load_config(REPO / "configs" / "examples" / "nli_hub.yaml").signals[0]
    assert nli.params["model"] == "facebook/bart-large-mnli"
    assert nli.params["hypothesis_template"] == "This text is about {}."
    multi = load_config(REPO / "configs" / "examples" / "multi_label.yaml")
    assert multi.task.multi_label and multi.queue.strategy == "threshold_distance"
    several = load_config(REPO / "configs" / "examples" / "several_fields.yaml")
    assert several.data.text_fields == ["subject", "body"]
    long = load_config(REPO / "configs" / "examples" / "long_texts.yaml")
    assert [(s.type, s.params.get("long_texts")) for s in long.signals] == [("embedding", "whole"), ("summarize", None)]
    assert long.signals[1].params["inner"]["type"] == "nli" and long.training.params == {"long_texts": "whole"}


# -- properties ---------------------------------------------------------------------------------------
label_name = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20).filter(
    lambda s: s.strip() and s.strip() == s)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(labels=st.lists(label_name, min_size=2, max_size=12, unique=True))
def test_any_distinct_label_names_round_trip(tmp_path, labels):
    config = load_config(write(tmp_path, with_(task={"labels": labels})))
    assert config.label_names == labels


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.integers(1, 10**6), seed=st.integers(-(2**31), 2**31), exploration=st.floats(0, 1),
       name=st.text(st.characters(whitelist_categories=("Ll", "Lu", "Nd")), min_size=1, max_size=12))
def test_overrides_round_trip(tmp_path, batch, seed, exploration, name):
    config = load_config(write(tmp_path, MINIMAL), [
        f"queue.batch_size={batch}", f"queue.seed={seed}", f"queue.exploration={exploration!r}",
        f"project.name={name!r}" if not name.isdigit() else f"project.name='{name}'",
    ])
    assert (config.queue.batch_size, config.queue.seed, config.queue.exploration) == (batch, seed, exploration)
    assert config.project.name == name


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(section=st.sampled_from(["data", "task", "queue", "ensemble", "argilla", "project"]),
       key=st.from_regex(r"[a-z][a-z_]{0,12}", fullmatch=True))
def test_any_unknown_key_is_named(tmp_path, section, key):
    raw = with_()
    raw.setdefault(section, {})
    if key in Config.model_fields[section].annotation.model_fields or key == "api_key":
        return
    raw[section][key] = 1
    path = write(tmp_path, raw)
    message = error_of(path)
    assert f"unknown key '{section}.{key}'" in message and str(path) in message


def test_a_key_given_twice_is_an_error_not_a_silent_overwrite(tmp_path):
    path = write(tmp_path, "task:\n  labels: [a, b]\nqueue:\n  batch_size: 10\n  batch_size: 20\n")
    assert error_of(path) == f"{path}: invalid YAML at line 5, column 3: key 'batch_size' appears twice in one mapping"
