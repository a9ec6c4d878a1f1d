"""labeler: active-learning labeling and fine-tuning for text classification, reviewed in Argilla."""

__version__ = "0.1.0"
