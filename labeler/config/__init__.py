"""The project config: pydantic models (``models``) and reading YAML with overrides (``loading``)."""

from labeler.config.loading import config_fingerprint, load_config, parse_override, validate_config
from labeler.config.models import (DEFAULT_MAX_CHARS, ArgillaConfig, Config, DataConfig, EnsembleConfig, LabelSpec,
                                   ProjectConfig, QueueConfig, SignalSpec, TaskConfig, TrainingConfig,
                                   WeakLabelsConfig)

__all__ = ["config_fingerprint", "load_config", "parse_override", "validate_config", "DEFAULT_MAX_CHARS",
           "ArgillaConfig", "Config", "DataConfig", "EnsembleConfig", "LabelSpec", "ProjectConfig", "QueueConfig",
           "SignalSpec", "TaskConfig", "TrainingConfig", "WeakLabelsConfig"]
