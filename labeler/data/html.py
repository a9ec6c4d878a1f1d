"""HTML in the texts (e-mail bodies and ticket descriptions exported as HTML), read as the plain text a person sees.

With ``data.strip_html`` each text field's value goes through ``html_text`` before anything reads it: the tags are
dropped (a block tag, ``<br>``, ``<p>``, ``<li>``..., is a line break), ``<script>``/``<style>``/``<head>`` are left
out whole, entities are decoded (``&amp;`` -> ``&``) and spaces collapsed. ``labeler init`` turns it on when many of
the sampled texts hold tags (``looks_like_html``).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

BLOCK_TAGS = frozenset({"address", "article", "blockquote", "br", "dd", "div", "dl", "dt", "footer", "h1", "h2", "h3",
                        "h4", "h5", "h6", "header", "hr", "li", "ol", "p", "pre", "section", "table", "td", "th", "tr",
                        "ul"})
SKIPPED_TAGS = frozenset({"head", "script", "style", "template"})
TAG = re.compile(r"</?(?:p|div|br|span|a|b|i|u|em|strong|font|table|tr|td|li|ul|ol|img|h[1-6]|html|body|blockquote)"
                 r"\b[^>]*>", re.IGNORECASE)
SHARE = 0.3  # of the sampled texts holding tags, for init to turn strip_html on


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs) -> None:
        if tag in SKIPPED_TAGS:
            self.skipping += 1
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag) -> None:
        if tag in SKIPPED_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_text(value: str) -> str:
    """``value`` as the text a browser would show, one line per block, spaces collapsed."""
    parser = _Text()
    parser.feed(value)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def looks_like_html(values) -> float:
    """The share of the string ``values`` that hold HTML tags."""
    texts = [v for v in values if isinstance(v, str) and v.strip()]
    return sum(bool(TAG.search(v)) for v in texts) / len(texts) if texts else 0.0
