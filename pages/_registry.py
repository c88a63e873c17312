"""The app's pages, in menu order: one list for app.py's navigation, the tests and the benchmarks.

Plain data (no Streamlit import), so that tests and benchmark scripts can read it without running a page.
"""

from typing import NamedTuple


class PageEntry(NamedTuple):
    file: str  # under pages/
    menu: str  # the title in the navigation menu
    icon: str
    heading: str  # the page's own title (its h1), what a reader sees first
    url_path: str  # where Streamlit serves it ("" for the default page)


PAGES: tuple[PageEntry, ...] = (
    PageEntry("explore.py", "Explore", ":material/map:", "Explore community assets", ""),
    PageEntry("neighbourhood.py", "Neighbourhood", ":material/holiday_village:", "One neighbourhood at a time", "neighbourhood"),
    PageEntry("near_me.py", "Near me", ":material/near_me:", "What is near me?", "near_me"),
    PageEntry("gaps.py", "Gaps", ":material/travel_explore:", "Gaps", "gaps"),
    PageEntry("community.py", "Aspirations and success", ":material/flag:", "Aspirations and success", "community"),
    PageEntry("join_up.py", "Join up", ":material/handshake:", "Join up", "join_up"),
    PageEntry("stories.py", "Stories of success", ":material/auto_stories:", "Stories of success", "stories"),
    PageEntry("edit.py", "Edit assets", ":material/edit_location_alt:", "Edit assets", "edit"),
    PageEntry("data.py", "Data", ":material/upload_file:", "Bring your data", "data"),
    PageEntry("about.py", "About", ":material/info:", "About Common Ground", "about"),
)  # fmt: skip

#: url path -> the page's heading: what a browser test or benchmark opens and waits for.
HEADINGS: dict[str, str] = {p.url_path: p.heading for p in PAGES}
