"""Areas on the Mars sphere (R = 3396190 m, IAU 2015), exact for cells bounded by meridians and
parallels: A = R^2 * dlon * (sin(lat_north) - sin(lat_south)), angles in radians. No Earth
constant anywhere; every area of the analyses comes from here."""
import math

from . import grid

KM2_PER_M2 = 1e-6


def rectangle_area_km2(lon_west, lon_east, lat_south, lat_north, radius_m=grid.MARS_RADIUS_M):
    """Area (km^2) of the cell between two meridians and two parallels (degrees; lon_east >= lon_west)."""
    dlon = math.radians(lon_east - lon_west)
    band = math.sin(math.radians(lat_north)) - math.sin(math.radians(lat_south))
    return radius_m ** 2 * dlon * band * KM2_PER_M2


def row_pixel_areas_km2():
    """(1801,) float64: the area of one 0.1-degree pixel in each row of the global grid, km^2.
    A pixel centred at latitude phi spans phi +- 0.05 degrees, clipped at the poles (the polar rows
    are half pixels)."""
    import numpy as np
    lat = grid.latitude_of_row(np.arange(grid.HEIGHT))
    north = np.radians(np.minimum(lat + grid.PIXEL_DEG / 2, 90.0))
    south = np.radians(np.maximum(lat - grid.PIXEL_DEG / 2, -90.0))
    return grid.MARS_RADIUS_M ** 2 * math.radians(grid.PIXEL_DEG) * (np.sin(north) - np.sin(south)) * KM2_PER_M2
