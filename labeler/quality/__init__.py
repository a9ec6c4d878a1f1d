"""Label quality: ``agreement`` between annotators (and its ``agreement_report``), suspected ``label_errors``
(cleanlab over out-of-fold probabilities), a project's ``suspects`` and their blind ``second_review`` in Argilla."""
