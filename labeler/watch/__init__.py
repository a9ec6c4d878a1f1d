"""``labeler watch``: the continuous loop for one project.

- ``state``: what the watcher has processed (survives ``kill -9``), the one-watcher-per-project lock, status.
- ``listener``: the webhook receiver (127.0.0.1, Standard Webhooks signatures verified).
- ``refresh``: one fast refresh (pull, refit the fast model, re-score from caches, re-push pending records).
- ``finetune``: a full fine-tune in a separate process, swapped in only when the comparison rule allows.
- ``runner``: the loop that ties them together.
"""
