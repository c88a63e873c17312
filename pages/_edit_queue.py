"""Edit assets: the moderation queue (editors) and a contributor's own proposals."""

import pandas as pd
import streamlit as st

from geo import community, editing
from pages import _layers, _people, _show, _ui
from pages._edit_common import NOUNS, review, write


def moderation(queue, kqueue, *, tax) -> None:
    """Every contribution waiting for review, with Approve and Reject."""
    if queue.empty and kqueue.empty:
        st.info("No contributions are waiting for review.")
    for _, r in queue.iterrows():
        with st.container(border=True):
            st.markdown(
                f"**{_show.plain(r['name'])}**, {_show.plain(tax.label(r['type']))}: from "
                f"{_show.plain(r['contributed_by'])}, sent by {_show.plain(r['created_by'])} on {str(r['created_at'])[:10]}"
            )
            st.caption(
                " · ".join(
                    _show.plain(r[c])
                    for c in ("address", "postcode", "url", "opening_hours", "description")
                    if not pd.isna(r[c]) and str(r[c]).strip()
                )
            )
            review(r, key=r["id"], approve=(editing.approve, r["id"]), reject=(editing.reject, r["id"]),
                   approved=f"Approved {_show.plain(r['name'])}: it is published now.",
                   rejected=f"Rejected {_show.plain(r['name'])}.")  # fmt: skip
    if not kqueue.empty:
        st.markdown("**Aspirations, stories and measure values sent in**")
    for _, r in kqueue.iterrows():
        what = NOUNS[r["layer"]]
        with st.container(border=True):
            st.markdown(
                f"**{_show.plain(r['title'])}** ({what}): sent by {_show.plain(r['created_by'])} on {str(r['created_at'])[:10]}"
            )
            if str(r["summary"] or "").strip():
                st.caption(_show.plain(r["summary"]))
            review(r, key=f"{r['layer']}_{r['id']}", prefix="k",
                   approve=(community.approve_item, r["layer"], r["id"]),
                   reject=(community.reject_item, r["layer"], r["id"]),
                   approved=f"Approved the {what}: it shows now.", rejected=f"Rejected the {what}.")  # fmt: skip


def my_proposals() -> None:
    """What this contributor sent, and Withdraw for what is still waiting."""
    me = _people.principal()
    mine = community.my_contributions(_layers.store(), me)
    if mine.empty:
        st.info(
            "You have not proposed anything yet. Use **Add an asset** here, or add an aspiration, a story or a "
            "measure value on their pages: an editor checks each one before it shows."
        )
    else:
        _ui.table(
            pd.DataFrame(
                {
                    "What": mine["layer"].map(NOUNS),
                    "Title": mine["title"],
                    "Status": mine["status"],
                    "Sent": mine["created_at"].astype(str).str[:10],
                }
            )
        )
        for _, r in mine[mine["status"] == "pending"].iterrows():
            w1, w2 = st.columns([5, 1])
            w1.markdown(f"**{_show.plain(r['title'])}** ({NOUNS[r['layer']]}), waiting for an editor")
            seen = int(r["version"]) if not pd.isna(r["version"]) else None
            if w2.button("Withdraw", key=f"withdraw_{r['layer']}_{r['id']}"):
                if r["layer"] == "assets":
                    write(editing.withdraw, r["id"], if_version=seen, done=f"Withdrew {_show.plain(r['title'])}.")
                else:
                    write(
                        community.withdraw_item,
                        r["layer"],
                        r["id"],
                        if_version=seen,
                        done=f"Withdrew {_show.plain(r['title'])}.",
                    )
