"""Builds the corpus of broken and hostile files the import tests throw at Common Ground."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import geopandas as gpd
from shapely.geometry import Point

GOOD_ROWS = "name,type,lat,lon\nTest Hall,community_centre,53.3811,-1.4701\n"


def _zip(
    path: Path, members: dict[str, bytes], *, symlinks: tuple[str, ...] = (), encrypted: tuple[str, ...] = ()
) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name in symlinks:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, data)
    if encrypted:  # zipfile cannot write encrypted members: set the "encrypted" flag bit by hand
        raw = bytearray(path.read_bytes())
        for sig, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            at = raw.find(sig)
            while at != -1:
                raw[at + offset] |= 0x1
                at = raw.find(sig, at + 4)
        path.write_bytes(bytes(raw))
    return path


def shapefile_members(tmp: Path, *, prj: bool = True, dbf: bool = True) -> dict[str, bytes]:
    g = gpd.GeoDataFrame({"name": ["Zip Hall"], "type": ["community_centre"]}, geometry=[Point(-1.47, 53.38)], crs=4326)
    folder = tmp / "shp"
    folder.mkdir(exist_ok=True)
    g.to_file(folder / "layer.shp", engine="pyogrio")
    out = {p.name: p.read_bytes() for p in folder.iterdir()}
    if not prj:
        out.pop("layer.prj")
    if not dbf:
        out.pop("layer.dbf")
    return out


def build(tmp: Path, demo_gpkg: Path) -> dict[str, tuple[Path, list[str], str]]:
    """name -> (file, extra CLI args, text the error must contain)."""
    c: dict[str, tuple[Path, list[str], str]] = {}

    def f(name: str, data: bytes | str) -> Path:
        p = tmp / name
        p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return p

    c["too big"] = (f("big.csv", GOOD_ROWS + "x" * 5000 + "\n"), ["--max-mb", "0.001"], "over the")
    c["too many rows"] = (
        f("rows.csv", GOOD_ROWS + "Hall 2,community_centre,53.38,-1.47\n"),
        ["--max-rows", "1"],
        "more than 1 rows",
    )
    c["empty"] = (f("empty.csv", b""), [], "is empty")
    c["header only"] = (f("header.csv", "name,lat,lon\n"), [], "no rows")
    c["binary named csv"] = (f("image.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64), [], "binary file")
    c["zip named gpkg"] = (_zip(tmp / "fake.gpkg", {"a.txt": b"hello"}), [], "not a GeoPackage")
    c["text named gpkg"] = (f("notes.gpkg", "this is not a database\n"), [], "not a GeoPackage")
    truncated = demo_gpkg.read_bytes()[:50_000]
    c["truncated gpkg"] = (f("truncated.gpkg", truncated), [], "damaged or truncated")
    c["csv named geojson"] = (f("data.geojson", GOOD_ROWS), [], "not GeoJSON")
    c["unknown extension"] = (f("data.xlsx", b"PK\x03\x04 not really"), [], "extension")
    c["bad encoding"] = (
        f("bad.csv", b"name,type,lat,lon\nCaf\x81 \x8d,community_centre,53.38,-1.47\n"),
        [],
        "not UTF-8",
    )
    c["xy without crs"] = (
        f("xy.csv", "name,type,x,y\nHall,community_centre,435000,387000\n"),
        [],
        "does not say their CRS",
    )
    c["swapped lat lon"] = (
        f("swapped.csv", "name,type,lat,lon\nHall,community_centre,-1.4701,53.3811\n"),
        [],
        "swapped",
    )
    c["outside area"] = (
        f("london.csv", "name,type,lat,lon\nHall,community_centre,51.5,-0.12\n"),
        [],
        "outside this store's area",
    )
    c["unknown type"] = (f("types.csv", "name,type,lat,lon\nHall,Bouncy Castle,53.38,-1.47\n"), [], "unknown type")
    c["not numbers"] = (f("nan.csv", "name,type,lat,lon\nHall,community_centre,north,west\n"), [], "not numbers")
    c["bad postcode"] = (f("pc.csv", "name,type,postcode\nHall,community_centre,ZZ9 9ZZ\n"), [], "could not be found")
    c["no name"] = (f("noname.csv", "name,type,lat,lon\n,community_centre,53.38,-1.47\n"), [], "have no name")
    # archives
    c["zip slip"] = (
        _zip(tmp / "slip.zip", {"../../evil.shp": b"x", "a.shx": b"x", "a.dbf": b"x"}),
        [],
        "leaves the archive",
    )
    c["absolute path"] = (_zip(tmp / "abs.zip", {"/etc/evil.shp": b"x"}), [], "leaves the archive")
    c["symlink"] = (_zip(tmp / "link.zip", {"layer.shp": b"/etc/passwd"}, symlinks=("layer.shp",)), [], "link")
    c["nested zip"] = (_zip(tmp / "nested.zip", {"inner.zip": b"PK\x03\x04"}), [], "another archive")
    c["encrypted"] = (_zip(tmp / "secret.zip", {"layer.shp": b"x"}, encrypted=("layer.shp",)), [], "encrypted")
    c["too many members"] = (_zip(tmp / "many.zip", {f"f{i}.txt": b"x" for i in range(60)}), [], "holds 60 files")
    c["zip bomb"] = (_zip(tmp / "bomb.zip", {"layer.shp": b"\x00" * (20 * 1024 * 1024)}), [], "zip bomb")
    c["no shp"] = (_zip(tmp / "noshp.zip", {"readme.txt": b"hi"}), [], "exactly one Shapefile")
    c["no dbf"] = (_zip(tmp / "nodbf.zip", shapefile_members(tmp, dbf=False)), [], "lacks the .dbf")
    c["no prj"] = (_zip(tmp / "noprj.zip", shapefile_members(tmp, prj=False)), [], "no .prj")
    c["damaged zip"] = (f("damaged.zip", b"PK\x03\x04" + b"\x00" * 100), [], "damaged zip")
    # GeoPackage with several layers and no choice made
    multi = tmp / "multi.gpkg"
    g = gpd.GeoDataFrame({"name": ["A"], "type": ["park"]}, geometry=[Point(-1.47, 53.38)], crs=4326)
    g.to_file(multi, layer="one", engine="pyogrio")
    g.to_file(multi, layer="two", engine="pyogrio")
    c["several layers"] = (multi, [], "several layers (one, two)")
    buf = io.BytesIO()
    buf.write(b'{"type": "FeatureCollection", "features": [')
    c["truncated geojson"] = (f("cut.geojson", buf.getvalue()), [], "could not be read")
    return c
