"""Can this Python run the engine, and if not, can the plugin's network runtime? The check that its
libraries import (without importing them: TensorFlow takes seconds and the toolbox must open
fast), where the network runtime lives (MARS_CLOUDMASK_RUNTIME, the QgsSettings value
mars_cloudmask/runtime, else <QGIS profile>/mars_cloudmask/runtime), the message that says how to
get what is missing, and the h5py workaround that Keras needs inside qgis.bin and qgis_process.bin."""
import html
import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parent.parent
REQUIREMENTS = PLUGIN_DIR / "requirements.txt"
GUIDE = PLUGIN_DIR / "docs" / "qgis.md"
GUIDE_NAME = "docs/qgis.md"
# The folder that holds the plugin's package as QGIS imported it (e.g. .../python/plugins for the
# package mars_cloudmask), not resolved: a worker process imports the engine under the same names.
PACKAGE = __name__.split(".")[0]
PLUGIN_PARENT = Path(sys.modules[PACKAGE].__file__).parent.parent if PACKAGE in sys.modules else PLUGIN_DIR.parent

RUNTIME_ENV = "MARS_CLOUDMASK_RUNTIME"          # an existing environment with TensorFlow (e.g. a checkout's .venv)
RUNTIME_SETTING = "mars_cloudmask/runtime"      # the same as a QgsSettings value
INSTALL_ALGORITHM = "Install the network runtime"
INSTALL_ID = "marscloudmask:installruntime"

# Python modules each kind of algorithm needs.
BASE_MODULES = ("numpy", "rasterio")
MODEL_MODULES = BASE_MODULES + ("tensorflow", "keras")
NETCDF_MODULES = ("netCDF4",)

SYSTEM_PACKAGES = {"numpy": "python3-numpy", "rasterio": "python3-rasterio", "netCDF4": "python3-netcdf4"}
LABELS = {"tensorflow": "TensorFlow", "keras": "Keras", "numpy": "NumPy", "rasterio": "rasterio", "netCDF4": "netCDF4"}


def tensorflow_build(choice="auto"):
    """'cpu' or 'cuda': the CUDA build where an NVIDIA GPU answers `nvidia-smi -L` (for 'auto')."""
    if choice != "auto":
        return choice
    smi = shutil.which("nvidia-smi")
    try:
        return "cuda" if smi and subprocess.run([smi, "-L"], capture_output=True, timeout=20).returncode == 0 else "cpu"
    except (OSError, subprocess.SubprocessError):
        return "cpu"


def pinned_requirements(build="cpu"):
    """pip arguments for the network runtime, read from requirements.txt (the one home of the pins):
    TensorFlow at the pinned version (its CPU build, or with build 'cuda' the CUDA build), then the
    Keras and numpy pins."""
    lines = REQUIREMENTS.read_text().splitlines() if REQUIREMENTS.is_file() else []
    package = "tensorflow[and-cuda]" if build == "cuda" else "tensorflow-cpu"
    tensorflow = [f"{package}=={line.split('==', 1)[1].strip()}" for line in lines
                  if line.startswith("# tensorflow==")]
    return tensorflow + [line.split("#")[0].strip() for line in lines if line.startswith(("keras", "numpy"))]


# -- where the network runtime is ------------------------------------------------------------------

def runtime_folder():
    """(folder, where it was set): MARS_CLOUDMASK_RUNTIME, else the QgsSettings value, else the folder
    mars_cloudmask/runtime in the QGIS profile."""
    if os.environ.get(RUNTIME_ENV):
        return Path(os.environ[RUNTIME_ENV]).expanduser(), RUNTIME_ENV
    try:
        from qgis.core import QgsApplication, QgsSettings
        value = QgsSettings().value(RUNTIME_SETTING, "")
        if value:
            return Path(str(value)).expanduser(), f"the QGIS setting {RUNTIME_SETTING}"
        settings_dir = QgsApplication.qgisSettingsDirPath()
    except ImportError:
        settings_dir = ""
    base = Path(settings_dir) if settings_dir else Path.home() / ".local" / "share" / "mars_cloudmask"
    return base / "mars_cloudmask" / "runtime", None


@dataclass
class Plan:
    """How an algorithm that needs `modules` runs here: in process (python None), in a worker of
    the runtime's `python`, or not at all (`problem` says why and what to do)."""
    python: Path = None
    folder: Path = None
    problem: str = None

    @property
    def in_process(self):
        return self.python is None and self.problem is None


def plan(modules, worker=True):
    """In process where QGIS's Python imports every module; else (for algorithms that can use it,
    `worker`) in the network runtime's worker where that one does; else the message that says how
    to fix it."""
    missing = missing_modules(modules)
    if not missing:
        return Plan()
    if not worker:
        return Plan(problem=requirements_problem(missing))
    from ..mars_cloudmask_plugin.environment import probe, venv_python
    folder, source = runtime_folder()
    python = venv_python(folder)
    found = probe(python, modules) if python.is_file() else None
    if found and found["version"][:2] == list(sys.version_info[:2]) and not found["missing"]:
        return Plan(python=python, folder=folder)
    return Plan(problem=requirements_problem(missing, folder, source, found))


def install_hint(missing, folder=None):
    """How to install the `missing` modules for QGIS's Python."""
    hints = []
    system = [SYSTEM_PACKAGES[m] for m in missing if m in SYSTEM_PACKAGES]
    if system:
        hints.append(f"Install {' '.join(system)} with apt-get (Debian/Ubuntu) or your system's package manager.")
    if set(missing) - set(SYSTEM_PACKAGES):
        folder = folder or runtime_folder()[0]
        python = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
        cpu, cuda = pinned_requirements("cpu"), pinned_requirements("cuda")
        pins = " ".join(f"'{p}'" for p in cpu)
        hints.append(f"Fix it in one click: run \"{INSTALL_ALGORITHM}\" (Processing Toolbox > Mars Cloudmask > "
                     "Set-up, or Plugins > Mars Cloudmask); it puts TensorFlow (a download of about 250 MB, "
                     f"several GB for the GPU build) into {folder}, and the algorithms then run the network there. By hand "
                     f"instead: {python} -m venv --system-site-packages {folder} && {folder}/bin/pip install "
                     f"{pins} (with an NVIDIA GPU: '{cuda[0]}' instead of '{cpu[0]}'), or set {RUNTIME_ENV} "
                     "to an environment that has them (e.g. a source checkout's .venv from scripts/setup.sh) "
                     "and restart QGIS.")
    return " ".join(hints + [f"Guide: {GUIDE_NAME} in the plugin folder."])


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


def requirements_problem(missing, folder=None, source=None, found=None):
    """The message for modules QGIS's Python cannot import (`missing`), given what the network runtime
    in `folder` (set by `source`; None: the default place) has (`found`: its probe, None: no runtime)."""
    if not missing:
        return None
    names = ", ".join(LABELS.get(m, m) for m in missing)
    text = f"Mars Cloudmask needs {names}, which QGIS's Python {sys.version.split()[0]} cannot import."
    if folder is not None and (found is not None or Path(folder).exists()):
        where = f"The network runtime {folder}" + (f" (set by {source})" if source else "")
        if found is None:
            text += f" {where} is not a working Python environment (no {folder}/bin/python that runs)."
        elif found["version"][:2] != list(sys.version_info[:2]):
            text += (f" {where} was made with Python {'.'.join(map(str, found['version'][:2]))}, not QGIS's:"
                     " run the install again to rebuild it.")
        else:
            lacking = ", ".join(LABELS.get(m, m) for m in found["missing"])
            text += f" {where} lacks {lacking}: run the install again to repair it."
    return f"{text} {install_hint(missing, folder)}"


def as_rich_text(message):
    """`message` for QGIS's rich-text views (the "cannot be run" dialog, the toolbox, the log):
    escaped, so `numpy<2` is text and not the start of a tag, with the guide as a link that opens."""
    if not message:
        return ""
    link = f'<a href="{html.escape(GUIDE.as_uri())}">{GUIDE_NAME}</a>'
    return html.escape(message, quote=False).replace(GUIDE_NAME, link, 1)


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
