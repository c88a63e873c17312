"""Reprojection runs in one thread of the process (geo/projection.py), with pyproj's own numbers."""

from __future__ import annotations

import multiprocessing
import threading

import geopandas as gpd
import geopandas.array
import numpy as np
import pytest
from pyproj import Transformer
from shapely.geometry import Point, Polygon

import geo  # noqa: F401 (installs the projection thread)
from geo import projection


def test_geopandas_still_reaches_its_transformers_through_the_installed_factory(monkeypatch):
    """Fails loudly if geopandas stops getting transformers from ``geopandas.array.TransformerFromCRS``:
    then the install would silently do nothing."""
    assert geopandas.array.TransformerFromCRS is projection.transformer_from_crs
    threads: list[str] = []
    real = projection.run

    def recording_run(func, *args, **kwargs):
        return real(lambda: (threads.append(threading.current_thread().name), func(*args, **kwargs))[1])

    monkeypatch.setattr(projection, "run", recording_run)
    projection.transformer_from_crs.cache_clear()
    out = []
    worker = threading.Thread(target=lambda: out.append(gpd.GeoSeries([Point(-1.47, 53.38)], crs=4326).to_crs(27700)))
    worker.start()
    worker.join()
    assert out and threads, "GeoSeries.to_crs did not go through geo.projection"
    assert all(name.startswith("cg-projection") for name in threads), threads
    projection.transformer_from_crs.cache_clear()


@pytest.mark.parametrize("target", ["EPSG:27700", "EPSG:3857", "ESRI:54009"])
def test_results_are_pyprojs_own(target):
    rng = np.random.default_rng(5)
    lon, lat = -1.8 + rng.random(50) * 0.7, 53.2 + rng.random(50) * 0.4
    points = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326)
    shape = gpd.GeoSeries([Polygon([(-1.5, 53.3), (-1.4, 53.3), (-1.4, 53.4), (-1.5, 53.3)])], crs=4326)
    direct = Transformer.from_crs("EPSG:4326", target, always_xy=True)
    x, y = direct.transform(lon, lat)
    moved = points.to_crs(target)
    assert np.array_equal(moved.x.to_numpy(), x) and np.array_equal(moved.y.to_numpy(), y)
    ring = np.asarray(shape.iloc[0].exterior.coords)
    assert np.array_equal(
        np.asarray(shape.to_crs(target).iloc[0].exterior.coords), np.column_stack(direct.transform(*ring.T))
    )


def test_a_failure_in_the_projection_thread_is_raised_in_the_caller():
    def boom():
        raise ValueError("no such transformation")

    with pytest.raises(ValueError, match="no such transformation"):
        projection.run(boom)
    assert projection.run(lambda: 42) == 42  # and the thread still works


def _child(queue) -> None:
    queue.put(round(float(gpd.GeoSeries([Point(-1.47, 53.38)], crs=4326).to_crs(27700).iloc[0].x)))


def test_a_forked_child_reprojects_in_a_thread_of_its_own():
    gpd.GeoSeries([Point(0, 51)], crs=4326).to_crs(27700)  # the parent's thread exists before the fork
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child, args=(queue,))
    child.start()
    child.join(60)
    assert child.exitcode == 0, "the forked child hung or failed reprojecting"
    assert queue.get(timeout=5) == 435354
