""" "Link to this view": the page's URL in a read-only field with a copy button, as HTML for a page.

Streamlit's ``st.code`` gives a copy button too, but showing any code block makes the browser load
and compile Streamlit's syntax highlighter (1.6 MB of JavaScript, every language) on a page's first
visit, before it draws the map: a quarter of Explore's first load. This is a text field and a
button instead. The link is escaped for the attribute it sits in, and the script reads it from the
field, so nothing in the URL (a search typed by anyone) reaches the script as code.
"""

from __future__ import annotations

import hashlib
import html

#: What the button says, and what it says once the link is on the clipboard.
COPY_LABEL = "Copy link"
COPIED_LABEL = "Copied"


def copy_link_html(link: str, *, label: str = "Link to this view") -> str:
    """The field and button for ``link`` (for ``st.html(..., unsafe_allow_javascript=True)``).

    The button copies with the Clipboard API where the page may use it (``localhost`` or HTTPS)
    and otherwise selects the text and asks the browser to copy it; either way the field stays
    there to select by hand. A live region says when it has been copied.
    """
    uid = "cg-link-" + hashlib.sha256(link.encode()).hexdigest()[:10]
    value = html.escape(link, quote=True)
    name = html.escape(label, quote=True)
    return (
        f'<div class="cg-link" id="{uid}" style="display:flex;gap:0.5rem;align-items:center;flex-wrap:wrap">'
        f'<input type="text" readonly value="{value}" aria-label="{name}" '
        'style="flex:1 1 16rem;min-width:0;min-height:2.25rem;padding:0.25rem 0.5rem;font:inherit;'
        'border:1px solid #6b6b6b;border-radius:0.25rem;background:#ffffff;color:#1f1f1f">'
        f'<button type="button" style="min-height:2.25rem;min-width:6rem;padding:0.25rem 0.75rem;font:inherit;'
        'border:1px solid #6b6b6b;border-radius:0.25rem;background:#ffffff;color:#1f1f1f;cursor:pointer">'
        f"{COPY_LABEL}</button>"
        '<span role="status" aria-live="polite" style="color:#1f1f1f"></span>'
        "</div>"
        "<script>(function () {"
        f"var box = document.getElementById('{uid}'); if (!box || box.dataset.ready) return;"
        "box.dataset.ready = '1';"
        "var field = box.querySelector('input'), button = box.querySelector('button'),"
        " said = box.querySelector('[role=status]');"
        "field.addEventListener('focus', function () { field.select(); });"
        "function copied() {"
        f" said.textContent = '{COPIED_LABEL}';"
        " setTimeout(function () { said.textContent = ''; }, 4000); }"
        "function byHand() {"
        " field.focus(); field.select();"
        " try { if (document.execCommand('copy')) { copied(); return; } } catch (e) {}"
        " said.textContent = 'Press Ctrl+C (or Cmd+C) to copy'; }"
        "button.addEventListener('click', function () {"
        " if (navigator.clipboard && window.isSecureContext) {"
        "  navigator.clipboard.writeText(field.value).then(copied, byHand);"
        " } else { byHand(); } });"
        "})();</script>"
    )


__all__ = ["COPIED_LABEL", "COPY_LABEL", "copy_link_html"]
