"""Many MDGMs: find them in the archive layout, mirror the layout for outputs, skip sols already
done, go on past bad files. `run_job` is a plain module-level function so process pools and Dask
workers can run it."""
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import Cancelled, CloudmaskError
from .pipeline import make_cloudmask, output_paths, write_products
from .writers import check_writable_folder

MDGM_PATTERNS = ("*_zequat.jpg", "*_zequat.jpeg", "*_zequat.JPG")


@dataclass(frozen=True)
class Job:
    source: Path
    outputs: dict          # product -> path


@dataclass
class Outcome:
    source: Path
    status: str            # "done", "skipped" or "failed"
    message: str = ""
    cloud_fraction: float = None
    valid_fraction: float = None
    seconds: float = 0.0

    def summary(self):
        if self.status != "done":
            return f"{self.source.name}: {self.status}{': ' + self.message if self.message else ''}"
        return (f"{self.source.name}: cloud {100 * self.cloud_fraction:.1f}% of valid pixels, "
                f"valid {100 * self.valid_fraction:.1f}% of the globe, {self.seconds:.1f} s")


def find_mdgms(root):
    """MDGMs below `root` (the distributed archive layout: phase/subphase folders), sorted."""
    root = Path(root)
    if not root.is_dir():
        raise CloudmaskError(root, "archive folder not found")
    found = {p for pattern in MDGM_PATTERNS for p in root.rglob(pattern)}
    return sorted(found)


def plan_jobs(root, out_dir, formats, probability=False):
    """One Job per MDGM below `root`, outputs mirrored under `out_dir`."""
    root, out_dir = Path(root), Path(out_dir)
    jobs = []
    for source in find_mdgms(root):
        target = out_dir / source.parent.relative_to(root)
        jobs.append(Job(source, output_paths(target, source.stem, formats, probability)))
    return jobs


def is_done(job):
    return all(Path(p).exists() for p in job.outputs.values())


def run_job(job, options, model=None, progress=None, cancel=None, overwrite=False):
    """Make one sol's products. Never raises for a bad input: the Outcome says what went wrong."""
    from .model import load_model
    if not overwrite and is_done(job):
        return Outcome(job.source, "skipped", "outputs exist")
    t0 = time.perf_counter()
    try:
        for path in job.outputs.values():
            check_writable_folder(Path(path).parent)
        from .mdgm import find_sol, read_mdgm
        mdgm = read_mdgm(job.source)
        find_sol(mdgm.path, options.ls)            # a missing Ls fails before the model loads
        model = model or load_model(options.model_path)
        result = make_cloudmask(mdgm, model, options.ls, options.buffer, options.tiling, options.tile_size,
                                options.threshold, progress, cancel)
        write_products(result, job.outputs)
    except CloudmaskError as exc:
        return Outcome(job.source, "failed", str(exc), seconds=time.perf_counter() - t0)
    except Cancelled:
        raise
    except Exception as exc:  # a batch goes on past anything one file can throw
        return Outcome(job.source, "failed", f"{job.source}: {type(exc).__name__}: {exc}",
                       seconds=time.perf_counter() - t0)
    cloud, valid = result.fractions
    return Outcome(job.source, "done", "", cloud, valid, time.perf_counter() - t0)


def failures_report(outcomes):
    """Closing lines of a batch: counts, then one line per failed file."""
    counts = {s: sum(o.status == s for o in outcomes) for s in ("done", "skipped", "failed")}
    lines = [f"{counts['done']} done, {counts['skipped']} skipped (outputs exist), {counts['failed']} failed"]
    lines += [f"  FAILED {o.message}" for o in outcomes if o.status == "failed"]
    return lines
