"""Shared fixtures. Tests import the engine as `mars_cloudmask_plugin` (the editable install maps
only that package, so the repository root is never on sys.path and QGIS's `processing` stays QGIS's)."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = (REPO.parent / "shared" / "data").resolve()
SAMPLE_MDGM = REPO / "sample" / "P01_day10_zequat.jpg"
VENV_BIN = REPO / ".venv" / "bin"
TINY_TILE = 316  # 16k + 124: small tiles keep the plumbing tests fast


@pytest.fixture(scope="session")
def repo_root():
    return REPO


@pytest.fixture(scope="session")
def shared_data():
    """../shared/data (real MDGMs and reference masks), or a skip saying why."""
    if not (SHARED_DATA / "P01" / "mdgm").is_dir():
        pytest.skip(f"real MARCI data not found at {SHARED_DATA} (clone the repo beside ../shared)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def sample_mdgm():
    return SAMPLE_MDGM


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory):
    """A random-weight width-4 U-Net saved with full metadata: tests the plumbing, not the skill."""
    import keras
    from mars_cloudmask_plugin.model import model_metadata, save_model
    from mars_cloudmask_plugin.unet import build_unet
    keras.utils.set_random_seed(1)
    km = build_unet(width=4)
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    meta = model_metadata(km, name="tiny-random", version="test", width=4, tile_size=TINY_TILE, threshold=0.5)
    save_model(km, path, meta, include_optimizer=False)
    return path


@pytest.fixture(scope="session")
def tiny_clearsky_model_path(tmp_path_factory):
    """A random-weight width-2 reference-aware U-Net (the map, latitude, blue/red and the clear-sky
    reference's channels): tests the plumbing of the reference, not the skill."""
    import keras
    from mars_cloudmask_plugin.inputs import CLEARSKY_INPUTS
    from mars_cloudmask_plugin.model import model_metadata, save_model
    from mars_cloudmask_plugin.unet import build_unet
    keras.utils.set_random_seed(3)
    km = build_unet(width=2, inputs=CLEARSKY_INPUTS)
    path = tmp_path_factory.mktemp("clearsky_model") / "tiny_clearsky.keras"
    meta = model_metadata(km, name="tiny-clearsky", version="test", width=2, tile_size=TINY_TILE, threshold=0.5,
                          inputs=CLEARSKY_INPUTS)
    return save_model(km, path, meta, include_optimizer=False)


def _tiny_head_model(directory, name, inputs, colour_head):
    import keras
    from mars_cloudmask_plugin.model import model_metadata, save_model
    from mars_cloudmask_plugin.unet import build_unet
    keras.utils.set_random_seed(5)
    km = build_unet(width=2, inputs=inputs, colour_head=colour_head)
    meta = model_metadata(km, name=name, version="test", width=2, tile_size=TINY_TILE, threshold=0.5, inputs=inputs)
    return save_model(km, directory / f"{name}.keras", meta, include_optimizer=False)


@pytest.fixture(scope="session")
def tiny_excess_head_model_path(tmp_path_factory):
    """A random-weight width-2 U-Net on the excess-over-clear-sky inputs with a colour head (box
    means of 5 and 15 px): the shape of the reference-aware model 0.5.0-w8, tiny."""
    from mars_cloudmask_plugin.inputs import EXCESS_INPUTS
    return _tiny_head_model(tmp_path_factory.mktemp("excess_model"), "tiny-excess-head", EXCESS_INPUTS,
                            {"boxes": [5, 15], "units": [4]})


@pytest.fixture(scope="session")
def tiny_seasonal_head_model_path(tmp_path_factory):
    """The shape of the subsolar-latitude experiment (clearsky_w8_solar_grown.json), tiny: the excess
    inputs and the latitude from the subsolar latitude, the colour head seeing every input but latitude."""
    from mars_cloudmask_plugin.inputs import SEASONAL_INPUTS
    return _tiny_head_model(tmp_path_factory.mktemp("seasonal_model"), "tiny-seasonal-head", SEASONAL_INPUTS,
                            {"boxes": [5, 15], "units": [4], "inputs": [n for n in SEASONAL_INPUTS if n != "latitude"]})


@pytest.fixture(scope="session")
def tiny_season_head_model_path(tmp_path_factory):
    """The shape of the season-aware reference model (clearsky_w8_consensus.json since 0.9.0-w8),
    tiny: the excess inputs and the sol's season (sin and cos of its Ls), the colour head seeing all."""
    from mars_cloudmask_plugin.inputs import EXCESS_INPUTS
    inputs = EXCESS_INPUTS + ("season_sin", "season_cos")
    return _tiny_head_model(tmp_path_factory.mktemp("season_model"), "tiny-season-head", inputs,
                            {"boxes": [5, 15], "units": [4]})


@pytest.fixture(scope="session")
def tiny_model(tiny_model_path):
    from mars_cloudmask_plugin.model import load_model
    return load_model(tiny_model_path)


_SYNTHETIC = {}
_JPEG_BYTES = {}


def synthetic_rgb(seed=0, black_caps=True):
    """A 1801 x 3600 RGB map: smooth random colour, black polar caps and black edge columns like
    a real MDGM (no real data involved). Made once per (seed, black_caps) per session (about 1.5 s
    each); every call gets its own copy."""
    key = (seed, black_caps)
    if key not in _SYNTHETIC:
        _SYNTHETIC[key] = _make_synthetic_rgb(seed, black_caps)
    return _SYNTHETIC[key].copy()


def _make_synthetic_rgb(seed, black_caps):
    rng = np.random.default_rng(seed)
    coarse = rng.integers(40, 230, size=(19, 37, 3)).astype(np.float32)
    from scipy.ndimage import zoom
    rgb = zoom(coarse, (1801 / 19, 3600 / 37, 1), order=1)[:1801, :3600]
    rgb = np.clip(rgb + rng.normal(0, 6, rgb.shape), 35, 255).astype(np.uint8)
    if black_caps:
        rgb[:150] = 0
        rgb[-150:] = 0
    rgb[:, :3] = 0
    rgb[:, -3:] = 0
    return rgb


def write_jpeg(path, rgb):
    """Write an RGB array as a JPEG like the distributed MDGMs (no georeferencing)."""
    import rasterio
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", driver="JPEG", width=rgb.shape[1], height=rgb.shape[0], count=rgb.shape[2],
                       dtype="uint8", QUALITY=90) as dst:
        dst.write(np.moveaxis(rgb, -1, 0))
    return path


@pytest.fixture(scope="session")
def jpeg_writer():
    """jpeg_writer(path, rgb): an RGB array written as an MDGM-like JPEG (see write_jpeg)."""
    return write_jpeg


@pytest.fixture(scope="session")
def synthetic_map():
    """synthetic_map(seed) -> a synthetic (1801, 3600, 3) uint8 MDGM array (see synthetic_rgb)."""
    return synthetic_rgb


@pytest.fixture
def make_mdgm(tmp_path):
    """make_mdgm(name="P01_day01", ls=136.5, seed=0) -> a synthetic MDGM JPEG in the archive layout
    (with its Pxx_ls.txt line; ls=None leaves no line)."""
    def make(name="P01_day01", ls=136.5, seed=0, folder=None, rgb=None):
        folder = Path(folder or tmp_path / "archive" / name.split("_")[0])
        path = folder / f"{name}_zequat.jpg"
        if rgb is None and seed in _JPEG_BYTES:        # the same JPEG as last time: copy its bytes
            folder.mkdir(parents=True, exist_ok=True)
            path.write_bytes(_JPEG_BYTES[seed])
        else:
            write_jpeg(path, synthetic_rgb(seed) if rgb is None else rgb)
            if rgb is None:
                _JPEG_BYTES[seed] = path.read_bytes()
        if ls is not None:
            table = folder / f"{name.split('_')[0]}_ls.txt"
            with open(table, "a") as f:
                f.write(f"{name}       28       {ls:.3f}\n")
        return path
    return make


def run_cli(*args, env=None, timeout=600):
    """Run the installed `mars-cloudmask` in a subprocess: (returncode, stdout, stderr)."""
    exe = VENV_BIN / "mars-cloudmask"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "mars_cloudmask_plugin.cli"]
    full_env = dict(os.environ, **(env or {}))
    proc = subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True, env=full_env,
                          timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def run_cli_in_process(*args, env=None, timeout=None):
    """`mars-cloudmask ARGS` as `cli.main([...])` in this process, with stdout and stderr captured:
    (returncode, stdout, stderr), like run_cli without a second TensorFlow start-up per call."""
    import contextlib
    import io
    from unittest import mock
    from mars_cloudmask_plugin import cli as cli_module
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.dict(os.environ, env or {}), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = cli_module.main([str(a) for a in args])
        except SystemExit as exc:          # argparse: --help, usage errors
            rc = exc.code if isinstance(exc.code, int) else 1
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture(scope="session")
def cli():
    """The CLI, in process (fast); `cli_subprocess` runs the installed command for real."""
    return run_cli_in_process


@pytest.fixture(scope="session")
def cli_subprocess():
    return run_cli


def _workers_alive():
    """Worker processes (mars_cloudmask_plugin.worker) that are children of this process."""
    alive = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and b"mars_cloudmask_plugin.worker" in (proc / "cmdline").read_bytes() \
                    and (proc / "stat").read_text().split()[3] == str(os.getpid()):
                alive.append(proc.name)
        except OSError:
            pass
    return alive


@pytest.fixture(scope="session")
def workers_alive():
    """workers_alive() -> the pids of this process's worker processes still running."""
    return _workers_alive


def _tiny_wheel(folder, name="marstinypkg", version="0.1"):
    """A minimal pure-Python wheel, written by hand (no build backend, no network)."""
    import base64
    import hashlib
    import zipfile
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{version}-py3-none-any.whl"
    info = f"{name}-{version}.dist-info"
    files = {f"{name}/__init__.py": f"VERSION = {version!r}\n",
             f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
             f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = []
    for arcname, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{arcname},sha256={digest},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join(record + [f"{info}/RECORD,,"]) + "\n"
    with zipfile.ZipFile(path, "w") as whl:
        for arcname, text in files.items():
            whl.writestr(arcname, text)
    return path


@pytest.fixture(scope="session")
def tiny_wheel():
    """tiny_wheel(folder) -> a hand-made wheel of the package marstinypkg 0.1 in `folder`, for offline installs."""
    return _tiny_wheel
