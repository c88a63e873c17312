"""Rendered map text is not compiled again as a Jinja template when it holds no Jinja syntax.

Branca (under folium) renders each element's ``header``, ``html`` and ``script`` macros and wraps
each result in a new ``branca.element.Element(text)``, which compiles ``text`` as a Jinja template
(``jinja2.Template(text)``); the figure then renders that template to get ``text`` back. For the
Explore map that compile is most of the Jinja time of a render: about a fifth of a map's 0.2 s, for
text that has nothing to substitute. (It is also why user text must never carry ``{{``: see
:mod:`geo.web.maps`, which neutralises it.)

:func:`install` makes ``branca.element.Template`` answer text with no Jinja delimiter with a
:class:`PlainText`, whose ``render`` returns what Jinja's would: the text less one trailing newline
(``keep_trailing_newline`` is off by default). Text with ``{{``, ``{%`` or ``{#``, with a carriage
return (Jinja turns ``\\r\\n`` into ``\\n``) or with options still goes to Jinja, so the output is
the same byte for byte; ``tests/maps/test_maps.py`` checks that on whole maps.
"""

from __future__ import annotations

import threading

import branca.element
import jinja2

_JINJA_MARKS = ("{{", "{%", "{#")
_LOCK = threading.Lock()


class PlainText:
    """A template of text with no Jinja syntax: renders as that text, as Jinja would."""

    __slots__ = ("_text",)

    def __init__(self, text: str) -> None:
        self._text = text[:-1] if text.endswith("\n") else text

    def render(self, *args, **kwargs) -> str:
        return self._text


def template(source: str, *args, **kwargs) -> jinja2.Template | PlainText:
    """``jinja2.Template(source, ...)``, or a :class:`PlainText` when that renders to the same text."""
    if args or kwargs or not isinstance(source, str) or "\r" in source or any(m in source for m in _JINJA_MARKS):
        return jinja2.Template(source, *args, **kwargs)
    return PlainText(source)


def install() -> None:
    """Use :func:`template` for branca's elements (idempotent; the module's classes keep theirs)."""
    with _LOCK:
        if branca.element.Template is not template:
            branca.element.Template = template


def uninstall() -> None:
    """Back to ``jinja2.Template`` (for the test that compares the two)."""
    with _LOCK:
        branca.element.Template = jinja2.Template
