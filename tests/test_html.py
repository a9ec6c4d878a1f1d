"""HTML texts (e-mail bodies, ticket descriptions) read as the plain text a person sees (``data.strip_html``)."""

from __future__ import annotations

import json

from labeler.config import load_config
from labeler.data import load_pool
from labeler.data.html import html_text, looks_like_html


def test_html_reads_as_the_text_a_browser_shows():
    page = ("<html><head><title>t</title><style>p {color: red}</style></head><body><p>Hello,</p>"
            "<p>my invoice is wrong &amp; I was charged   twice.<br>Thanks<script>var x = 1;</script></p>"
            "<ul><li>order 17</li><li>order&nbsp;18</li></ul><div>Ana <b>Ruiz</b></div></body></html>")
    assert html_text(page) == "Hello,\nmy invoice is wrong & I was charged twice.\nThanks\norder 17\norder 18\nAna Ruiz"
    assert html_text("no tags at all") == "no tags at all"
    assert html_text("<p>unclosed <i>tags") == "unclosed tags"
    assert looks_like_html(["<p>a</p>", "plain", "<BR/>b", None, "a < b and c > d"]) == 0.5
    assert looks_like_html([]) == 0.0


def test_strip_html_from_init_to_the_pool_and_predict(tmp_path):
    from click.testing import CliRunner

    from labeler.cli.init import command
    from labeler.evaluation.predict import predict_file
    from tests.test_predict import LABELS, _StubRun

    rows = [{"id": i, "body": f"<p>Invoice {i} is wrong &amp; late</p>" if i % 2 else f"parcel {i} lost",
             "label": "billing" if i % 2 else "shipping"} for i in range(10)]
    (tmp_path / "t.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = CliRunner().invoke(command, [str(tmp_path / "t.jsonl"), "--labels-from", "label", "-o",
                                          str(tmp_path / "c.yaml")])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == (
        "the models read 'body' (guessed from the first rows; --text-field to choose); ids from 'id'; 50% of the "
        "sampled texts hold HTML: wrote data.strip_html: true (read as plain text)")
    config = load_config(tmp_path / "c.yaml")
    assert config.data.strip_html is True
    assert [r.text for r in load_pool(config)][:2] == ["parcel 0 lost", "Invoice 1 is wrong & late"]
    kept = load_config(tmp_path / "c.yaml", ["data.strip_html=false"])  # a setting of the pool: read again
    assert [r.text for r in load_pool(kept)][1] == "<p>Invoice 1 is wrong &amp; late</p>"
    config = load_config(tmp_path / "c.yaml", ["task.labels=[sports, business, tech]"])
    res = predict_file(config, tmp_path / "t.jsonl", run=_StubRun(LABELS), out=tmp_path / "out.jsonl")
    import pandas as pd

    # the text the model read, in the --out file and the log alike
    assert [json.loads(line)["body"] for line in (tmp_path / "out.jsonl").read_text().splitlines()][1] == \
        pd.read_parquet(res.path)["body"].tolist()[1] == "Invoice 1 is wrong & late"
