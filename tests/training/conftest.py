import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest

from tests.training.data import make_labels


@pytest.fixture
def labels_df():
    return make_labels()


@pytest.fixture
def labels_path(tmp_path, labels_df):
    path = tmp_path / "labels.parquet"
    labels_df.to_parquet(path)
    return path
