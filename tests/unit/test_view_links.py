"""The "Link to this view" field and button (geo.web.links): the URL is shown, escaped, and never
reaches the script as code."""

from __future__ import annotations

import html
import re

from geo.web import links


def test_the_link_is_the_fields_value_and_the_button_copies_it():
    url = "http://127.0.0.1:8501/near_me?postcode=S5+8NJ&minutes=15"
    out = links.copy_link_html(url)
    field = re.search(r'<input type="text" readonly value="([^"]*)" aria-label="Link to this view"', out)
    assert field and html.unescape(field.group(1)) == url
    assert f">{links.COPY_LABEL}</button>" in out and 'role="status"' in out
    assert "navigator.clipboard.writeText(field.value)" in out  # the script copies what the field holds


def test_hostile_text_in_a_link_stays_text():
    nasty = "http://h/explore?q=\"><script>alert(1)</script>'{{7*7}}"
    out = links.copy_link_html(nasty)
    markup, script = out.split("<script>", 1)
    assert "<script>alert" not in out and "alert(1)" not in script  # escaped in the field, absent from the code
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup and "&quot;&gt;" in markup
    assert "&#x27;" in markup  # a quote cannot end the attribute either
    assert out.count("<script>") == 1


def test_each_link_has_its_own_box():
    a, b = links.copy_link_html("http://h/a"), links.copy_link_html("http://h/b")
    ids = [re.search(r'id="(cg-link-[0-9a-f]+)"', x).group(1) for x in (a, b)]
    assert ids[0] != ids[1] and f"getElementById('{ids[0]}')" in a
