"""User text made safe for the places it is shown: spreadsheets, tables and Markdown.

Text people type is data, never markup or code. Three places would otherwise run it:

* **Spreadsheets.** A CSV cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return
  (after any ``'`` quotes) is run as a formula when the file is opened (CSV injection):
  ``=HYPERLINK("http://evil","x")`` becomes a link. :func:`defuse_formula` prefixes such text with
  ``'`` and :func:`restore_formula` removes exactly that prefix again. :func:`table_safe` applies it
  to every text cell of a frame shown with ``st.dataframe``, whose own "Download as CSV" button
  writes the cells as they are.
* **Markdown.** ``st.markdown`` renders GitHub-flavoured Markdown in the browser (react-markdown with
  remark-gfm, remark-math, remark-emoji and Streamlit's ``:colour[...]`` directives), so
  ``[x](http://evil)``, ``<http://evil>``, and even a bare ``http://evil.example``,
  ``www.evil.example`` or ``someone@evil.example`` become links. :func:`markdown_literal` returns
  Markdown that shows the text as typed, with nothing clickable and nothing formatted.

Nothing here imports streamlit (the engine never does); the pages call these functions.
"""

from __future__ import annotations

import re

import geopandas as gpd
import pandas as pd

__all__ = ["WORD_JOINER", "defuse_formula", "markdown_literal", "restore_formula", "table_safe"]

#: U+2060 WORD JOINER: invisible, zero width, and neither a letter, a digit nor punctuation, so it
#: breaks the patterns Markdown renderers use to find links in plain text (see :func:`markdown_literal`).
WORD_JOINER = "\u2060"

_FORMULA = re.compile("'*[=+\\-@\t\r]")
_DEFUSED = re.compile("'+[=+\\-@\t\r]")
# Every ASCII punctuation character: CommonMark lets each be backslash-escaped, and the escaped
# character is shown as itself.
_MD_PUNCTUATION = re.compile(r"""([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])""")
_COLON = re.compile(r":(?=\S)")
_WWW = re.compile(r"(www)(?=\.)", re.IGNORECASE)
_LEADING_SPACE = re.compile(r"^[ \t]+", re.MULTILINE)
_BLANK_LINES = re.compile(r"\n(?:[ \t]*\n)+")
_EDGE_BLANK_LINES = re.compile(r"\A(?:[ \t]*\n)+|(?:\n[ \t]*)+\Z")


# --------------------------------------------------------------------------------------------
# Spreadsheets
# --------------------------------------------------------------------------------------------


def defuse_formula(value: object) -> object:
    """``value`` with a leading ``'`` when a spreadsheet would run it as a formula; else unchanged.

    Text starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return, after any number of
    ``'``, gets one more ``'`` in front (so ``'=x`` becomes ``''=x`` and :func:`restore_formula` can
    always undo it). Anything that is not a ``str`` (numbers, including negative ones, ``None``,
    NaN) is returned as it is.

    Examples
    --------
    >>> defuse_formula('=HYPERLINK("http://evil","x")')
    '\\'=HYPERLINK("http://evil","x")'
    >>> defuse_formula(-3)
    -3
    """
    if isinstance(value, str) and _FORMULA.match(value):
        return "'" + value
    return value


def restore_formula(value: object) -> object:
    """Undo :func:`defuse_formula`: remove the one ``'`` it added; anything else is unchanged."""
    if isinstance(value, str) and _DEFUSED.match(value):
        return value[1:]
    return value


def _is_text(series: pd.Series) -> bool:
    return series.dtype == object or pd.api.types.is_string_dtype(series.dtype)


def _defused_index(index: pd.Index) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        return index.set_levels([_defused_index(level) for level in index.levels], verify_integrity=False)
    if index.dtype == object or pd.api.types.is_string_dtype(index.dtype):
        return index.map(defuse_formula)
    return index


def table_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` to show with ``st.dataframe``: every text cell passed through
    :func:`defuse_formula`, and no geometry.

    Parameters
    ----------
    frame
        A DataFrame or GeoDataFrame. It is not changed.

    Returns
    -------
    pandas.DataFrame
        A plain DataFrame (never a GeoDataFrame) with the same rows and order, without any geometry
        column. Text columns (``object``, ``string``, and categoricals of text) have each text cell
        defused; numbers, dates, booleans and missing values are untouched, so ``-3`` stays the
        number ``-3`` while the text ``"-3"`` becomes ``"'-3"``. Column names and index labels that
        are text are defused too (they head the downloaded CSV).
    """
    geometry_columns = [c for c in frame.columns if isinstance(frame[c].dtype, gpd.array.GeometryDtype)]
    out = pd.DataFrame(frame.drop(columns=geometry_columns)).copy()
    for i in range(out.shape[1]):
        series = out.iloc[:, i]
        if isinstance(series.dtype, pd.CategoricalDtype):
            cats = series.cat.categories
            if cats.dtype == object or pd.api.types.is_string_dtype(cats.dtype):
                # defuse_formula is one-to-one, so categories stay distinct
                out.isetitem(i, series.cat.rename_categories([defuse_formula(c) for c in cats]))
        elif _is_text(series):
            mapped = series.map(defuse_formula)
            if pd.api.types.is_string_dtype(series.dtype) and series.dtype != object:
                mapped = mapped.astype(series.dtype)
            out.isetitem(i, mapped)
    out.columns = _defused_index(out.columns)
    out.index = _defused_index(out.index)
    return out


# --------------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------------


def markdown_literal(text: object) -> str:
    """Markdown that ``st.markdown`` shows as exactly ``text``, with nothing clickable or formatted.

    Two steps make that so:

    1. Every ASCII punctuation character is backslash-escaped (``\\*``, ``\\[``, ``\\<``, ``\\&``,
       ...), which CommonMark shows as the character itself. That stops emphasis, headings, lists,
       quotes, code, tables, links and images (``[x](http://evil)``, ``<http://evil>``), raw HTML,
       entities (``&lt;`` stays ``&lt;``), maths (``$x$``) and Streamlit's ``:red[...]`` colours.
    2. remark-gfm still turns URLs and emails in plain text into links *after* escapes are resolved,
       so a :data:`WORD_JOINER` (U+2060, invisible) goes after every ``:`` that is followed by text
       (``http://``, ``mailto:``; it also stops ``:emoji:`` and ``:material/icon:`` codes), between
       ``www`` and a following ``.``, and before every ``@``. The autolink patterns then no longer
       match: ``https?://`` and ``www.`` must be contiguous and an email's ``@`` must follow a
       letter, digit or one of ``-._+``.

    Line breaks are kept (a single newline is a line break, blank lines a paragraph break), and
    indentation at the start of a line is kept as no-break spaces, so it never starts a code block.
    ``None`` gives ``""``.

    The displayed text differs from ``text`` only by the invisible word joiners, which a copy may
    carry along. The result is a block of text: wrapping it in ``*...*`` or ``**...**`` formats
    it as a whole only when it is one paragraph.
    """
    if text is None or (isinstance(text, float) and text != text) or text is pd.NA:
        return ""
    s = str(text).replace("\r\n", "\n").replace("\r", "\n")
    s = _COLON.sub(":" + WORD_JOINER, s)
    s = _WWW.sub(lambda m: m.group(1) + WORD_JOINER, s)
    s = s.replace("@", WORD_JOINER + "@")
    s = _EDGE_BLANK_LINES.sub("", s)
    paragraphs = _BLANK_LINES.split(s) if s.strip() else []
    # A backslash at the end of a line is a hard line break (trailing spaces are dropped first:
    # they are invisible, and two of them would make a break of their own).
    return "\n\n".join("\\\n".join(_literal_line(line) for line in p.split("\n")) for p in paragraphs)


def _literal_line(line: str) -> str:
    line = _MD_PUNCTUATION.sub(r"\\\1", line.rstrip(" \t"))
    return _LEADING_SPACE.sub(lambda m: m.group(0).replace("\t", "    ").replace(" ", "\u00a0"), line)
