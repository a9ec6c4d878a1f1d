"""Fine-tuning, calibration, the run registry and model comparison for labeler.

Entry points (each module imports torch/transformers/setfit lazily, inside the functions that need them):

- ``training.train.train(labels_path, label_names, multi_label, backend, params, project_dir, seed, force)``
- ``training.registry.list_runs(root)``, ``load_run(run_id | "current", root)``, ``set_current(run_id, root)``
- ``training.train.load_gold(labels_path, label_names, multi_label, project_dir)`` -> ids, texts, y
- ``training.compare.compare(systems, y, labels, multi_label, kinds)`` -> ``CompareResult``
- ``training.report.write_report(result, out_dir, history)``; ``training.evaluate.read_history(path)``
"""
