"""Fine-tuning, calibration, the run registry and model comparison for labeler."""
