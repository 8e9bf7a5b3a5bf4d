"""The plugin's network runtime: a private virtual environment on the host's own Python (with
its system site packages, so numpy, rasterio, netCDF4 and QGIS's own modules stay the system's),
holding TensorFlow and Keras. `install` makes or repairs it with pip, its output streamed;
`probe` tells, without importing them, which modules it can import; the worker (worker.py) runs
the network there when the host Python cannot.

No qgis import (the QGIS side is processing/runtime.py and processing/installruntime.py).
"""
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import CloudmaskError
from .worker import stream_command

MARKER = "mars_cloudmask_runtime.json"     # what was installed, when, by which requirement list
_PROBE = ("import importlib.util as u, json, sys; mods = sys.argv[1:]; "
          "print(json.dumps({'version': list(sys.version_info[:3]), "
          "'missing': [m for m in mods if u.find_spec(m) is None]}))")


def venv_python(folder):
    """The interpreter of the virtual environment in `folder`."""
    folder = Path(folder)
    return folder / "Scripts" / "python.exe" if os.name == "nt" else folder / "bin" / "python"


def base_python():
    """The real interpreter of this Python: the same version and installation (base prefix).

    Inside QGIS `sys.executable` is often the qgis binary itself, or whatever `python3` comes first
    on PATH (another installation: pyenv, conda), so candidates are checked by running them: the
    first that reports this Python's version and base prefix wins. None when there is none."""
    version = sys.version_info
    name = f"python{version[0]}.{version[1]}"
    prefix = Path(sys.base_prefix)
    candidates = [prefix / "bin" / name, prefix / "bin" / f"python{version[0]}", prefix / "python.exe",
                  getattr(sys, "_base_executable", None), sys.executable, Path("/usr/bin") / name, shutil.which(name)]
    wanted = [*version[:3], os.path.realpath(sys.base_prefix)]
    seen = set()
    for candidate in candidates:
        if not candidate or str(candidate) in seen or not Path(candidate).is_file():
            continue
        seen.add(str(candidate))
        if _identity(candidate) == wanted:
            return Path(candidate)
    return None


def _identity(python):
    """[major, minor, micro, real base prefix] of `python`, or None when it does not run."""
    try:
        out = subprocess.run([str(python), "-c", "import os, sys; print(*sys.version_info[:3], "
                              "os.path.realpath(sys.base_prefix))"], capture_output=True, text=True, timeout=20,
                             stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    fields = out.stdout.strip().split(" ", 3)
    if out.returncode != 0 or len(fields) != 4 or not all(f.isdigit() for f in fields[:3]):
        return None
    return [int(f) for f in fields[:3]] + [fields[3]]


def probe(python, modules):
    """{"version": [3, 11, 2], "missing": [...]} for `python` and `modules` (found, not imported),
    or None when `python` does not run. Cached until the environment changes (pip touches its
    site-packages folder)."""
    python = Path(python)
    if not python.is_file():
        return None
    stamps = tuple(_mtime(p) for p in (python, python.parent.parent / "pyvenv.cfg", *_site_packages(python)))
    return _probe(str(python), tuple(modules), stamps)


def _mtime(path):
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def _site_packages(python):
    root = python.parent.parent
    return sorted(root.glob("lib/python3*/site-packages")) + sorted(root.glob("Lib/site-packages"))


@functools.lru_cache(maxsize=32)
def _probe(python, modules, stamps):
    try:
        out = subprocess.run([python, "-c", _PROBE, *modules], capture_output=True, text=True, timeout=60,
                             stdin=subprocess.DEVNULL)
        return json.loads(out.stdout) if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


# -- installing ----------------------------------------------------------------------------------

@dataclass
class InstallResult:
    folder: Path
    python: Path
    created: bool            # a new (or rebuilt) environment; False: an existing one was updated
    requirements: tuple
    seconds: float


# pip's lines that mark progress, and the share of the run they stand for
_STAGES = ((re.compile(r"^(Collecting|Requirement already satisfied)"), None),
           (re.compile(r"^Installing collected packages"), 0.85),
           (re.compile(r"^Successfully installed"), 0.97))


def install(folder, requirements, python=None, pip_options=(), on_line=None, progress=None, cancel=None):
    """Make (or repair, or update) the virtual environment in `folder` and pip-install
    `requirements` into it; idempotent: a second run finds everything there and changes nothing.

    The environment is made with `python` (default: base_python()) and --system-site-packages. One
    that exists but whose interpreter no longer runs (its Python was upgraded) is rebuilt. pip's
    output goes line by line to `on_line`; `cancel()` stops pip (CloudmaskError-free: Cancelled)."""
    started = time.monotonic()
    folder = Path(folder).expanduser()
    say = on_line or (lambda line: None)
    report = progress or (lambda fraction: None)
    python = Path(python) if python else base_python()
    if python is None:
        raise CloudmaskError(None, f"no interpreter of this Python ({sys.version.split()[0]} in {sys.base_prefix}) "
                                   "found to make the network runtime with (looked in its bin folder and /usr/bin)")
    target = venv_python(folder)
    found = probe(target, ())
    created = found is None or found["version"][:2] != list(sys.version_info[:2])
    if created:
        if folder.exists() and not folder.is_dir():
            raise CloudmaskError(folder, "exists and is not a folder; choose another place for the network runtime")
        if folder.is_dir() and any(folder.iterdir()) and not (folder / "pyvenv.cfg").is_file():
            raise CloudmaskError(folder, "is a folder with files but not a virtual environment; choose a new or "
                                         "empty folder for the network runtime (nothing was changed)")
        say(f"Creating the virtual environment {folder} with {python} (system site packages visible)")
        folder.parent.mkdir(parents=True, exist_ok=True)
        command = [str(python), "-m", "venv", "--system-site-packages"] + (["--clear"] if folder.exists() else []) + \
            [str(folder)]
        lines = []
        status = stream_command(command, _collect(lines, say), _collect(lines, say), cancel)
        if status != 0 or not target.is_file():
            hint = " (on Debian/Ubuntu: apt-get install python3-venv)" if any("ensurepip" in x for x in lines) else ""
            raise CloudmaskError(folder, f"cannot make a virtual environment with {python}{hint}: "
                                         f"{lines[-1] if lines else f'exit status {status}'}")
    else:
        say(f"Updating the existing virtual environment {folder}")
    report(0.05)
    collected = [0]

    def on_pip(line):
        say(line)
        for pattern, share in _STAGES:
            if pattern.search(line):
                if share is None:
                    collected[0] += 1
                    share = 0.05 + 0.75 * (1 - 0.9 ** collected[0])      # creeps towards 80%
                report(share)
    pip_lines = []
    command = [str(target), "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
               "--progress-bar", "off", *pip_options, *requirements]
    say("Running: " + " ".join(command))
    environment = dict(os.environ, PIP_NO_INPUT="1", PYTHONUNBUFFERED="1")
    environment.pop("PYTHONPATH", None)          # pip must see the environment, not the caller's path
    status = stream_command(command, _collect(pip_lines, on_pip), _collect(pip_lines, on_pip), cancel,
                            env=environment)
    if status != 0:
        errors = [x for x in pip_lines if x.startswith("ERROR")] or pip_lines[-1:] or [f"exit status {status}"]
        raise CloudmaskError(folder, f"pip could not install {' '.join(requirements)}: {errors[0]}")
    (folder / MARKER).write_text(json.dumps({"requirements": list(requirements), "python": str(python),
                                             "installed": time.strftime("%Y-%m-%d %H:%M:%S")}, indent=1) + "\n")
    report(1.0)
    return InstallResult(folder, target, created, tuple(requirements), time.monotonic() - started)


def _collect(lines, handler):
    def on(line):
        lines.append(line)
        del lines[:-200]
        handler(line)
    return on
