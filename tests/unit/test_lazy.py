"""geo._lazy: a module stand-in that imports on first use and then takes its own place."""

import sys

from geo._lazy import lazy


def test_the_first_use_imports_the_module_and_replaces_the_stand_in():
    namespace: dict = {}
    namespace["cm"] = lazy("colorsys", namespace, "cm")
    sys.modules.pop("colorsys", None)
    assert "lazy module 'colorsys'" in repr(namespace["cm"])
    assert "colorsys" not in sys.modules  # nothing imported until used
    assert namespace["cm"].rgb_to_hsv(1.0, 0.0, 0.0) == (0.0, 1.0, 1.0)
    assert namespace["cm"] is sys.modules["colorsys"]  # later uses are the module itself


def test_a_name_rebound_meanwhile_is_left_alone():
    namespace: dict = {}
    stand_in = lazy("colorsys", namespace, "cm")
    namespace["cm"] = "something else"
    assert stand_in.hls_to_rgb(0.0, 0.5, 1.0) == (1.0, 0.0, 0.0)
    assert namespace["cm"] == "something else"
