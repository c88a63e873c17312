"""Importing aspirations, measures, stories and organisation areas for a ward, then
``python -m geo profile --json`` lists them all with their links (issue 5's acceptance check)."""

from __future__ import annotations

import json

from geo.schema import PROJECT_ROOT

EXAMPLES = PROJECT_ROOT / "data" / "examples"
ORDER = ["organisations", "organisation_areas", "aspirations", "success_measures", "measure_updates", "stories"]


def test_example_files_import_and_appear_in_the_profile(run, store_copy):
    for layer in ORDER:
        proc = run("import", str(EXAMPLES / f"{layer}.csv"), "--layer", layer, "--data", store_copy.location, "--json")
        assert proc.returncode == 0, (layer, proc.stderr)
    proc = run("profile", "--area", "Firth Park", "--boundaries", "wards", "--data", store_copy.location, "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    asp = doc["aspirations"]
    measures = doc["success_measures"]
    stories = doc["stories"]
    assert len(asp) == 4 and len(measures) == 3 and len(stories) == 2
    assert all(a["text"].startswith("EXAMPLE") for a in asp)
    asp_ids = {a["id"] for a in asp}
    assert {m["aspiration_id"] for m in measures} <= asp_ids  # measures link to their aspirations
    org_ids = {o["id"] for o in doc["organisations"]}
    examples = [o for o in doc["organisations"] if o["name"].startswith("EXAMPLE")]
    assert len(examples) == 4 and all(o["themes"] for o in examples)
    linked = {i.strip() for s in stories for i in (s["organisation_ids"] or "").split(",") if i.strip()}
    assert linked and linked <= org_ids  # stories link to organisations working here
    # the measure's current value follows its recorded history
    updates = store_copy.read("measure_updates")
    latest = updates.sort_values("recorded_on").groupby("measure_id")["value"].last()
    for m in measures:
        if m["id"] in latest.index:
            assert m["current"] == latest[m["id"]]
