"""Evaluation: ``gold`` (the random reserve: the one unbiased gold set), ``compare_on_gold`` (every signal and run
on that gold, with paired intervals), ``predict`` (batch predictions, logged) and ``drift`` (logs compared)."""
