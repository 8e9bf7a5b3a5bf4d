"""Resuming batch runs safely: a sol counts as done only when each of its outputs opens, lies on the
global grid and carries the provenance the run asks for (model and version, threshold, buffer,
tiling mode); a claim file per sol keeps two runs on one output folder from making the same sol
twice, and a claim whose process has died does not stay stuck; temporary files that runs left
behind (killed, out of power) are removed once nobody holds the sol."""
import contextlib
import json
import os
import socket
import time
from functools import lru_cache
from pathlib import Path

from .errors import CloudmaskError
from .raster import mask_tags
from .writers import PARTIAL_SUFFIX, partial_name_prefix

TODO, DONE = "todo", "done"
CLAIM_SUFFIX = ".claim"


@lru_cache(maxsize=8)
def _expected(model_path, threshold, buffer, tiling):
    from .model import read_metadata
    meta = read_metadata(Path(model_path))
    name = meta.get("name") or Path(model_path).stem
    from .options import DEFAULT_THRESHOLD
    threshold = float(meta.get("threshold", DEFAULT_THRESHOLD)) if threshold is None else float(threshold)
    return (("MODEL", f"{name} {meta.get('version', 'unversioned')}"), ("THRESHOLD", f"{threshold:g}"),
            ("BUFFER", f"{float(buffer):g}"), ("TILING_MODE", tiling))


def _reference_label(reference):
    if not reference:
        return "none"
    path = Path(reference)
    return _cached_label(str(path), path.stat().st_mtime_ns if path.exists() else 0)


@lru_cache(maxsize=64)
def _cached_label(path, mtime):
    from .clearsky import read_clearsky_info
    return read_clearsky_info(path).label


def expected_tags(options):
    """The provenance tags a finished sol of this run carries (read from the model file's metadata,
    without loading the network, and from the clear-sky reference's tags)."""
    from .pipeline import model_path_for
    return dict(_expected(str(model_path_for(options)), options.threshold, options.buffer, options.tiling),
                REFERENCE=_reference_label(options.reference))


def output_state(job, expected):
    """TODO (no output yet), DONE (every output sound and made with these options), or the reason
    the sol must be made again."""
    paths = [Path(p) for p in job.outputs.values()]
    present = [p for p in paths if os.path.lexists(p)]
    if not present:
        return TODO
    for path in paths:
        if not path.exists():
            return f"{path.name} is missing"
        if not path.is_file():
            return f"{path.name} is not a file"
        if path.stat().st_size == 0:
            return f"{path.name} is empty"
        if path.suffix.lower() == ".vrt":          # the georeferenced MDGM: no provenance of a model run
            continue
        try:
            tags = mask_tags(path, check_grid=True)
        except CloudmaskError as exc:          # unreadable or off the grid: make it again
            return f"{path.name}: {exc.problem}"
        differing = [f"{key} {str(tags.get(key.lower(), 'missing'))!r} (asked {value!r})"
                     for key, value in expected.items() if str(tags.get(key.lower())) != value]
        if differing:
            return f"{path.name} was made with other options: {', '.join(differing)}"
    return DONE


# -- claims ---------------------------------------------------------------------------------------
# A claim is a file `.<stem>.claim` beside the sol's outputs, held with an exclusive flock while the
# sol is made. The kernel drops the lock when its process ends however it ends (even kill -9), so a
# dead run never leaves a sol stuck, and taking a claim over cannot race: whoever gets the lock
# holds the sol. (flock is local to a machine: runs on several hosts over NFS are not coordinated.)

def claim_path(job):
    first = Path(next(iter(job.outputs.values())))
    return first.parent / f".{Path(job.source).stem}{CLAIM_SUFFIX}"


def _try_lock(fd):
    import fcntl
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def holder(job):
    """The pid written in the sol's claim while a live run holds it, else None."""
    claim = claim_path(job)
    try:
        fd = os.open(claim, os.O_RDONLY)
    except OSError:
        return None
    try:
        if _try_lock(fd):
            return None                           # nobody holds it (a dead run's leftover)
        try:
            return json.loads(os.read(fd, 4096) or b"{}").get("pid", "?")
        except ValueError:
            return "?"
    finally:
        os.close(fd)


@contextlib.contextmanager
def claimed(job):
    """Hold the sol's claim for the block (yields True), or yield False when a live run holds it."""
    claim = claim_path(job)
    claim.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(claim, os.O_CREAT | os.O_RDWR, 0o644)
    except OSError as exc:
        raise CloudmaskError(claim.parent, f"cannot claim {Path(job.source).name} there ({exc.strerror})") from None
    if not _try_lock(fd):
        os.close(fd)
        yield False
        return
    try:
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "time": time.time(),
                                 "source": str(job.source)}).encode())
        remove_partials(job)
        yield True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(claim)
        os.close(fd)


def remove_partials(job):
    """Remove the temporary files an earlier run left for this sol's outputs; the number removed."""
    removed = 0
    for path in map(Path, job.outputs.values()):
        if not path.parent.is_dir():
            continue
        for stale in path.parent.glob(f"{partial_name_prefix(path)}*{PARTIAL_SUFFIX}"):
            with contextlib.suppress(OSError):
                if stale.is_dir():
                    import shutil
                    shutil.rmtree(stale)
                else:
                    stale.unlink()
                removed += 1
    return removed


def sweep_partials(jobs):
    """Remove stale temporary files of every sol nobody live holds (start of a batch run)."""
    return sum(remove_partials(job) for job in jobs if holder(job) is None)
