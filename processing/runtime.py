"""Can this Python run the engine? The check that its libraries import (without importing them:
TensorFlow takes seconds and the toolbox must open fast), the message that says how to install
what is missing, and the h5py workaround that Keras needs inside qgis.bin and qgis_process.bin."""
import importlib.util
import os
import sys
from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parent.parent
REQUIREMENTS = PLUGIN_DIR / "requirements.txt"

# Python modules each kind of algorithm needs.
BASE_MODULES = ("numpy", "rasterio")
MODEL_MODULES = BASE_MODULES + ("tensorflow", "keras")
NETCDF_MODULES = ("netCDF4",)

SYSTEM_PACKAGES = {"numpy": "python3-numpy", "rasterio": "python3-rasterio", "netCDF4": "python3-netcdf4"}
LABELS = {"tensorflow": "TensorFlow", "keras": "Keras", "numpy": "NumPy", "rasterio": "rasterio", "netCDF4": "netCDF4"}


def pinned_requirements():
    """pip arguments for the network runtime, read from requirements.txt (the one home of the pins):
    TensorFlow's CPU build at the pinned version, then the Keras and numpy pins."""
    lines = REQUIREMENTS.read_text().splitlines() if REQUIREMENTS.is_file() else []
    tensorflow = [f"tensorflow-cpu=={line.split('==', 1)[1].strip()}" for line in lines
                  if line.startswith("# tensorflow==")]
    return tensorflow + [line.split("#")[0].strip() for line in lines if line.startswith(("keras", "numpy"))]


def install_hint(missing):
    """How to install the `missing` modules for QGIS's Python."""
    py = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    hints = []
    system = [SYSTEM_PACKAGES[m] for m in missing if m in SYSTEM_PACKAGES]
    if system:
        hints.append(f"Install {' '.join(system)} with apt-get (Debian/Ubuntu) or your system's package manager.")
    if set(missing) - set(SYSTEM_PACKAGES):
        pins = " ".join(f"'{p}'" for p in pinned_requirements())
        hints.append("Set up TensorFlow once for QGIS's Python: /usr/bin/python3 -m venv --system-site-packages VENV"
                     f" && VENV/bin/pip install {pins} (in a source checkout: bash scripts/setup.sh, which makes "
                     f".venv), then start QGIS or qgis_process with PYTHONPATH=VENV/lib/{py}/site-packages.")
    return " ".join(hints + ["See docs/qgis.md."])


def missing_modules(names):
    """The modules among `names` that this Python cannot import (checked without importing them)."""
    missing = []
    for name in names:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def requirements_problem(names):
    """None when every module in `names` is importable, else a message saying how to install them."""
    missing = missing_modules(names)
    if not missing:
        return None
    names = ", ".join(LABELS.get(m, m) for m in missing)
    return (f"Mars Cloudmask needs {names}, which QGIS's Python {sys.version.split()[0]} cannot import. "
            f"{install_hint(missing)}")


def isolate_h5py():
    """Import h5py so that it binds to the HDF5 library bundled in its wheel.

    qgis.bin and qgis_process.bin link GDAL and with it Debian's libhdf5 into the global symbol
    scope; Keras imports the pip wheel of h5py, whose extension modules would then resolve HDF5
    calls to that other HDF5 version and fail ("ValueError: Not a datatype"). RTLD_DEEPBIND makes
    them prefer their own bundled library. Harmless where nothing else loaded HDF5 globally."""
    if "h5py" in sys.modules or not hasattr(os, "RTLD_DEEPBIND"):
        return
    flags = sys.getdlopenflags()
    sys.setdlopenflags(flags | os.RTLD_DEEPBIND)
    try:
        import h5py  # noqa: F401
    except ImportError:
        pass        # Keras reports it, with the install hint around it
    finally:
        sys.setdlopenflags(flags)
