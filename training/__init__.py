"""Fine-tuning, calibration, the run registry and model comparison: the lower layer under ``labeler``.

``training`` imports nothing from ``labeler``; its errors are ``training.errors.TrainingError`` (one-line
messages, which the ``labeler`` CLI prints like its own) and its device choice is ``training.device``.
Each module imports torch/transformers/setfit lazily, inside the functions that need them.

Entry points:

- ``training.train.train(labels_path, label_names, multi_label, backend, params, project_dir, seed, force,
  ..., weak=(texts, targets, weight), splits={id: "gold" | "calib" | "train"})`` -> ``Run``; weak rows are
  training rows only, with a sample weight, counted in the run's ``info`` and model card
- ``training.backends.BACKENDS`` (name -> ``Backend``: params class, ``fit``, ``load``), ``BACKEND_NAMES``
- ``training.head.LinearModel``: the class-balanced, sample-weighted logistic regression every linear head uses
- ``training.registry.list_runs(root)``, ``load_run(run_id | "current", root)``, ``set_current(run_id, root)``
- ``training.train.load_gold(labels_path, label_names, multi_label, project_dir)`` -> ids, texts, y
- ``training.compare.compare(systems, y, labels, multi_label, kinds)`` -> ``CompareResult``
- ``training.report.write_report(result, out_dir, history)``; ``training.evaluate.read_history(path)``
- ``training.device.resolve_device(device)``
"""
