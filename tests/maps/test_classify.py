"""Quantile classes for shaded areas: the same classes and edges as mapclassify, which the app no
longer imports (it pulls in scikit-learn, SciPy's statistics and matplotlib on every server's first map)."""

import warnings

import mapclassify
import numpy as np
import pandas as pd
import pytest

from geo.web.maps import classify, quantile_edges


def _reference(y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        q = mapclassify.Quantiles(y, k=k)
    return np.asarray(q.yb), np.asarray(q.bins)


def _arrays():
    rng = np.random.default_rng(20261130)
    yield "floats", rng.normal(50, 20, 347)
    yield "rates", np.round(rng.gamma(2.0, 1.5, 33) * 10, 2)  # per 1,000 people, say
    yield "counts", rng.poisson(3, 147).astype(float)  # many ties
    yield "integers", rng.integers(0, 9, 28)  # an integer array, classes merge
    yield "deciles", rng.integers(1, 11, 345).astype(float)
    yield "two values", np.array([1.0, 1.0, 1.0, 7.0, 7.0])
    yield "tiny", np.array([0.25, 3.5, 1.0])
    yield "negative", rng.normal(-5, 1e-3, 60)
    yield "huge", rng.uniform(1e9, 1e12, 101)
    for n in (2, 6, 7, 11, 97, 1000):
        yield f"n={n}", rng.uniform(0, 1, n)


@pytest.mark.parametrize("k", [2, 3, 5, 7])
@pytest.mark.parametrize(("label", "y"), list(_arrays()), ids=[label for label, _ in _arrays()])
def test_classes_and_edges_equal_mapclassify(label, y, k):
    assert quantile_edges(y, k).tolist() == _reference(y, k)[1].tolist()  # to the bit, not approximately
    kk = min(k, len(np.unique(y)))  # as before: no more classes than distinct values
    classes, edges = classify(pd.Series(y), k=k)
    want_yb, want_bins = _reference(y, kk)
    assert classes.tolist() == want_yb.tolist()
    assert edges == want_bins.tolist()


def test_missing_values_are_minus_one_and_take_no_part():
    values = pd.Series([3.0, None, 1.0, "n/a", 2.0, 5.0, 4.0], index=list("abcdefg"))
    classes, edges = classify(values, k=5)
    assert classes.to_dict() == {"a": 2, "b": -1, "c": 0, "d": -1, "e": 1, "f": 4, "g": 3}
    assert edges == pytest.approx([1.8, 2.6, 3.4, 4.2, 5.0])  # 20th, 40th, ... percentiles of 1..5


def test_one_value_or_none_at_all():
    classes, edges = classify(pd.Series([4.0, 4.0, None]), k=5)
    assert classes.tolist() == [0, 0, -1] and edges == [4.0]
    classes, edges = classify(pd.Series([None, None], dtype=float), k=5)
    assert classes.tolist() == [-1, -1] and edges == []


def test_every_value_sits_at_or_below_its_class_edge_and_above_the_one_before():
    y = pd.Series(np.random.default_rng(7).exponential(2.0, 500))
    classes, edges = classify(y, k=5)
    assert len(edges) == 5 and edges[-1] == y.max()
    for value, c in zip(y, classes, strict=True):
        assert value <= edges[c] and (c == 0 or value > edges[c - 1])
    assert sorted(classes.value_counts().tolist()) == [100] * 5  # quintiles of distinct values


def test_the_app_does_not_import_mapclassify():
    import subprocess
    import sys

    code = (
        "import sys, geopandas as gpd, pandas as pd\n"
        "from geo.web import maps\n"
        "maps.classify(pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))\n"
        "print(sorted(m for m in ('mapclassify', 'sklearn', 'matplotlib.pyplot') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
