"""The loop: one round's steps and the policy that drives them.

``engine`` (the pure steps over matrices and the ``Policy``; ``policy`` builds a command's one Policy, the gold
share checked), ``scoring`` (score the pool: signals, ensemble, queue model -> ``pool_matrices.Scores``),
``ensemble`` and ``join`` (combine signals and runs), ``strategies`` (query strategies) and ``queue`` (which records
humans see next), ``human_labels`` (pulled answers as matrices), ``runs`` (fine-tuned runs of a project) and
``round`` (the Argilla driver: push, pull, round). ``labeler.simulate`` drives the same steps with an oracle.
"""
