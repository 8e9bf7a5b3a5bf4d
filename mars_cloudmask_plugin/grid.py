"""The global MDGM grid: 3600 x 1801 pixels of 0.1 degree on the Mars sphere (IAU_2015:49900).

Pixel centres: column c at longitude -180 + 0.1 c (east positive), row r at latitude 90 - 0.1 r,
so the raster's outer edges are lon -180.05..179.95 and lat -90.05..90.05.
"""
import math

WIDTH = 3600
HEIGHT = 1801
PIXEL_DEG = 0.1
WEST_EDGE = -180.05
NORTH_EDGE = 90.05
CRS_AUTHID = "IAU_2015:49900"
MARS_RADIUS_M = 3396190.0
NODATA = -999
# Tolerance when a latitude falls on a pixel centre up to float rounding (e.g. 65.63 - 0.03).
_EPS = 1e-6


def geotransform():
    """The GDAL geotransform of the global grid (origin at the north-west outer corner)."""
    return (WEST_EDGE, PIXEL_DEG, 0.0, NORTH_EDGE, 0.0, -PIXEL_DEG)


def affine_transform():
    from rasterio.transform import Affine
    return Affine.from_gdal(*geotransform())


def latitude_of_row(row):
    import numpy as np  # here, not at the top: the QGIS toolbox reads the constants without numpy
    return 90.0 - PIXEL_DEG * np.asarray(row, dtype=float)


def longitude_of_column(col):
    import numpy as np
    return -180.0 + PIXEL_DEG * np.asarray(col, dtype=float)


def columns_between(west, east):
    """Column indices whose centre longitude lies in [west, east] degrees; west > east crosses the
    antimeridian (e.g. 170, -170). Empty when no centre lies there."""
    import numpy as np
    lon = longitude_of_column(np.arange(WIDTH))
    inside = (lon >= west) & (lon <= east) if west <= east else (lon >= west) | (lon <= east)
    return np.flatnonzero(inside)


def rows_between(lat_north, lat_south):
    """Rows whose centre latitude lies within [lat_south, lat_north], as a half-open range.

    First row = ceil((90 - latN) / 0.1), last row = floor((90 - latS) / 0.1), clipped to the grid.
    """
    first = math.ceil((90.0 - lat_north) / PIXEL_DEG - _EPS)
    last = math.floor((90.0 - lat_south) / PIXEL_DEG + _EPS)
    first, last = max(first, 0), min(last, HEIGHT - 1)
    return first, last + 1


def mars_crs_wkt():
    """WKT2 of IAU_2015:49900 from PROJ, for CF `crs_wkt` and for writers."""
    from pyproj import CRS
    return CRS.from_user_input(CRS_AUTHID).to_wkt()
