"""Engine of Mars Cloudmask: MARCI Mars Daily Global Maps -> georeferenced water-ice cloud masks.

Pure Python + numpy + rasterio + netCDF4 + pyproj + TensorFlow; no QGIS import anywhere, so the
same functions serve the CLI, the QGIS Processing provider, notebooks and Dask workers.
"""
__version__ = "0.9.0"

import os as _os

# Inside a virtual environment pyproj does not find Debian's PROJ database on its own.
if _os.path.isdir("/usr/share/proj"):
    _os.environ.setdefault("PROJ_DATA", "/usr/share/proj")
