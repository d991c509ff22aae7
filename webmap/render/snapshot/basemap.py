"""Basemap tiles for snapshots: fetched only when configured and reachable, else left out.

A basemap needs its provider configured (天地图 needs ``TIANDITU_KEY``; ``SNAPSHOT_TILE_URLS``
may point a provider at an intranet mirror). One probe tile is asked for with a short timeout;
if it does not come back, the picture is drawn with boundaries only. Tiles (Web Mercator) are
warped onto the snapshot's EPSG:4546 grid by nearest-neighbour lookup; AMap tiles are looked up
at the GCJ-02 position of each pixel, so the overlays stay in WGS84 and still line up.
"""

from __future__ import annotations

import io
import math
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from geo.crs import METRIC_CRS, STORAGE_CRS, get_transformer, wgs84_to_gcj02
from webmap.render.basemaps import AMAP_URL, BASEMAPS, OSM_URL, TIANDITU_URL, basemap_note

TILE = 256
PROBE_TIMEOUT = 2.0
TILE_TIMEOUT = 4.0
MAX_TILES = 120
USER_AGENT = "yzmap-snapshot/0.1"


@dataclass(frozen=True)
class Basemap:
    """A warped basemap image and the stamp the picture must carry."""

    image: np.ndarray  # (rows, cols, 3|4) covering ``extent``
    extent: tuple[float, float, float, float]  # minx, maxx, miny, maxy in EPSG:4546
    stamp: str


def tile_urls(key: str, config) -> list[str]:
    """Return the XYZ URL templates of a basemap (``{x} {y} {z}``), or [] when not configured."""
    spec = BASEMAPS.get(key, {})
    provider = spec.get("provider")
    override = (config.get("SNAPSHOT_TILE_URLS") or {}).get(key)
    if override:
        return [override] if isinstance(override, str) else list(override)
    if provider == "tianditu":
        tk = config.get("TIANDITU_KEY")
        if not tk:
            return []
        return [TIANDITU_URL.replace("{s}", "0") % (layer, tk) for layer in spec["layers"]]
    if provider == "amap":
        return [AMAP_URL.replace("{s}", "1")]
    if provider == "osm":
        return [OSM_URL]
    return []


def _fetch(url: str, timeout: float) -> bytes:
    """Download one tile (raises on any failure)."""
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - configured URL
        return resp.read()


def _tile_xy(lon, lat, z: int):
    """Return fractional Web Mercator tile coordinates of lon/lat arrays at zoom ``z``."""
    n = 2**z
    x = (np.asarray(lon) + 180.0) / 360.0 * n
    lat_r = np.radians(np.asarray(lat))
    y = (1.0 - np.log(np.tan(lat_r) + 1.0 / np.cos(lat_r)) / math.pi) / 2.0 * n
    return x, y


def _zoom_for(metres_per_pixel: float, lat: float) -> int:
    """Return the tile zoom whose resolution is closest to (not coarser than) the picture's."""
    z = math.log2(156543.03 * math.cos(math.radians(lat)) / max(metres_per_pixel, 1.0))
    return int(min(max(math.ceil(z), 3), 18))


def _decode(data: bytes) -> np.ndarray:
    """Decode a PNG/JPEG tile into an RGB float array."""
    from matplotlib import image as mpimg

    fmt = "jpg" if data[:3] == b"\xff\xd8\xff" else "png"
    img = mpimg.imread(io.BytesIO(data), format=fmt)
    img = img.astype(float) / (255.0 if img.dtype == np.uint8 else 1.0)
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    return img[..., :3] if img.shape[-1] == 4 else img


def fetch_basemap(key: str, config, extent, size_px: tuple[int, int]) -> Basemap | None:
    """Return the warped basemap for ``extent`` (EPSG:4546), or None when unset or unreachable."""
    urls = tile_urls(key, config)
    if not urls:
        return None
    minx, maxx, miny, maxy = extent
    cols, rows = size_px
    to_wgs = get_transformer(METRIC_CRS, STORAGE_CRS)
    gx, gy = np.meshgrid(np.linspace(minx, maxx, cols), np.linspace(maxy, miny, rows))
    lon, lat = to_wgs.transform(gx, gy)
    if BASEMAPS[key].get("provider") == "amap":
        lon, lat = wgs84_to_gcj02(lon, lat)
    z = _zoom_for((maxx - minx) / cols, float(np.mean(lat)))
    tx, ty = _tile_xy(lon, lat, z)
    while (int(tx.max()) - int(tx.min()) + 1) * (int(ty.max()) - int(ty.min()) + 1) > MAX_TILES:
        z -= 1
        tx, ty = _tile_xy(lon, lat, z)
    wanted = [
        (x, y)
        for x in range(int(tx.min()), int(tx.max()) + 1)
        for y in range(int(ty.min()), int(ty.max()) + 1)
    ]
    layers = []
    for template in urls:
        tiles = _fetch_tiles(template, z, wanted)
        if tiles is None:
            return None
        layers.append(_warp(tiles, tx, ty))
    image = layers[0]
    for overlay in layers[1:]:  # labels layer (cva/cia) drawn over the base: keep its dark pixels
        image = np.minimum(image, overlay)
    return Basemap(image=image, extent=extent, stamp=basemap_note(key, config))


def _fetch_tiles(template: str, z: int, wanted) -> dict | None:
    """Fetch tiles: one probe with a short timeout, then the rest in parallel; None on failure."""
    url = lambda x, y: template.format(x=x, y=y, z=z)  # noqa: E731
    try:
        first = _decode(_fetch(url(*wanted[0]), PROBE_TIMEOUT))
    except Exception:  # noqa: BLE001 - unreachable, refused, bad data: draw without the basemap
        return None
    tiles = {wanted[0]: first}

    def _get(xy):
        """Fetch and decode one tile, or None."""
        try:
            return xy, _decode(_fetch(url(*xy), TILE_TIMEOUT))
        except Exception:  # noqa: BLE001 - a missing tile leaves a blank square
            return xy, None

    with ThreadPoolExecutor(max_workers=8) as pool:
        for xy, img in pool.map(_get, wanted[1:]):
            if img is not None:
                tiles[xy] = img
    return tiles


def _warp(tiles: dict, tx: np.ndarray, ty: np.ndarray) -> np.ndarray:
    """Sample tile pixels at the fractional tile coordinates of every output pixel."""
    out = np.ones(tx.shape + (3,))
    ix, iy = tx.astype(int), ty.astype(int)
    px = np.clip(((tx - ix) * TILE).astype(int), 0, TILE - 1)
    py = np.clip(((ty - iy) * TILE).astype(int), 0, TILE - 1)
    for (x, y), img in tiles.items():
        mask = (ix == x) & (iy == y)
        if mask.any():
            h, w = img.shape[:2]
            out[mask] = img[
                np.clip(py[mask] * h // TILE, 0, h - 1), np.clip(px[mask] * w // TILE, 0, w - 1)
            ]
    return out
