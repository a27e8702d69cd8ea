"""L3: the sanitiser runs last, so math placeholders cannot break out of attributes."""

from html.parser import HTMLParser

import pytest

from study.templatetags.study_markdown import render_markdown, sanitise

PAYLOADS = [
    '<span class="$x$">text</span>',
    '<span class="$x$" onclick="alert(1)">a $y$ b</span>',
    '<span class="\u27e6MATH0\u27e7">x</span> and $z$',
    '$<img src=x onerror="alert(1)">$',
    "$$\n<script>alert(1)</script>\n$$",
    '<span class="math evil">$q$</span>',
    '[link](javascript:alert(1)) <a href="javascript:alert(1)">a</a>',
]


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_output_is_exactly_what_the_sanitiser_allows(payload):
    html = render_markdown(payload)

    assert sanitise(html) == html  # nothing was added after sanitising
    for tag, attrs in _tags(html):
        assert tag not in {"script", "img", "a"}
        assert set(attrs) <= {"class"}
        assert attrs.get("class", "") in {"", "math"}, html


def test_math_still_reaches_katex_escaped():
    html = render_markdown("넓이는 $a<b$ 이고 $$x^2$$")

    assert '<span class="math">$a&lt;b$</span>' in html
    assert '<span class="math">$$x^2$$</span>' in html


def test_a_forged_placeholder_stays_text():
    html = render_markdown("\u27e6MATH0\u27e7 then $x$")

    assert html.startswith("<p>\u27e6MATH0\u27e7 then ")
