"""Polar bounds from solar longitude (Mengwall and Guzewich 2022): the latitudes outside which
polar hood, seasonal cap and polar night make MARCI colour unreliable."""
import math

from .errors import CloudmaskError

DEFAULT_BUFFER = 3.0
MARS_OBLIQUITY = 25.19      # degrees


def check_ls(ls, path=None):
    """Ls must be a number of degrees in [0, 360]."""
    try:
        value = float(ls)
    except (TypeError, ValueError):
        raise CloudmaskError(path, f"solar longitude Ls {ls!r} is not a number") from None
    if not 0.0 <= value <= 360.0:
        raise CloudmaskError(path, f"solar longitude Ls {value:g} is outside [0, 360] degrees")
    return value


def polar_bounds(ls, buffer=DEFAULT_BUFFER):
    """(latN, latS) in degrees for solar longitude `ls`, shrunk by `buffer` degrees on each side.

    Ls <= 180: latN = 59 + 0.214 s - c, latS = -57 + 0.247 s + c with s = 90 - |90 - Ls|;
    Ls > 180:  latN = 59 - 0.214 s - c, latS = -57 - 0.247 s + c with s = 90 - |270 - Ls|.
    """
    ls = check_ls(ls)
    if ls <= 180.0:
        s = 90.0 - abs(90.0 - ls)
        return 59.0 + 0.214 * s - buffer, -57.0 + 0.247 * s + buffer
    s = 90.0 - abs(270.0 - ls)
    return 59.0 - 0.214 * s - buffer, -57.0 - 0.247 * s + buffer


def subsolar_latitude(ls):
    """The latitude (degrees) where the sun stands overhead at solar longitude `ls`:
    sin(lat) = sin(obliquity) sin(Ls)."""
    ls = check_ls(ls)
    return math.degrees(math.asin(math.sin(math.radians(MARS_OBLIQUITY)) * math.sin(math.radians(ls))))
