"""Many MDGMs: find them in the archive layout, mirror the layout for outputs, skip sols already
done, go on past bad files. `run_job` is a plain module-level function so process pools and Dask
workers can run it."""
import time
from dataclasses import dataclass, replace
from pathlib import Path

from .archive import find_mdgms
from .errors import Cancelled, CloudmaskError
from .options import AUTO_REFERENCE, MaskOptions
from .pipeline import make_products, output_paths
from .resume import DONE, TODO, claimed, expected_tags, holder, output_state


@dataclass(frozen=True)
class Job:
    source: Path
    outputs: dict          # product -> path
    reference: str = None  # this sol's clear-sky reference (batch --reference auto), over the run's



def job_options(job, options):
    """The options one sol runs with: the run's, with the job's own clear-sky reference if it has one."""
    return replace(options, reference=job.reference) if job.reference else options


@dataclass
class Outcome:
    source: Path
    status: str            # "done", "skipped" or "failed"
    message: str = ""
    cloud_fraction: float = None
    valid_fraction: float = None
    seconds: float = 0.0
    redone: str = ""       # why outputs that were there did not count as done
    claimed: bool = False  # skipped: another live run holds the sol

    def summary(self):
        if self.status != "done":
            return f"{self.source.name}: {self.status}{': ' + self.message if self.message else ''}"
        return (f"{self.source.name}: cloud {100 * self.cloud_fraction:.1f}% of valid pixels, "
                f"valid {100 * self.valid_fraction:.1f}% of the globe, {self.seconds:.1f} s"
                + (f" (redone: {self.redone})" if self.redone else ""))


def plan_jobs(root, out_dir, formats, probability=False):
    """One Job per MDGM below `root`, outputs mirrored under `out_dir`."""
    root, out_dir = Path(root), Path(out_dir)
    jobs = []
    for source in find_mdgms(root):
        target = out_dir / source.parent.relative_to(root)
        jobs.append(Job(source, output_paths(target, source.stem, formats, probability)))
    return jobs


def with_folder_references(jobs, root, out_dir, cancel=None):
    """batch --reference auto: one clear-sky reference per archive folder, from all its sols, cached
    beside that folder's masks (<out>/<folder>/<folder>_clearsky.tif) and reused on resume while the
    folder holds the same sols. Returns (jobs with their reference, failed Outcomes of the sols whose
    folder gave no reference)."""
    from .clearsky import folder_clearsky
    root, out_dir = Path(root), Path(out_dir)
    references, failures, ready = {}, [], []
    for job in jobs:
        folder = Path(job.source).parent
        if folder not in references:
            if cancel is not None and cancel():
                raise Cancelled()
            try:
                references[folder] = str(folder_clearsky(folder, out_dir / folder.relative_to(root),
                                                         skip_bad=True).path)
            except CloudmaskError as exc:
                references[folder] = exc
        reference = references[folder]
        if isinstance(reference, CloudmaskError):
            failures.append(Outcome(job.source, "failed", f"{job.source}: no clear-sky reference for its folder "
                                                          f"({reference})"))
        else:
            ready.append(replace(job, reference=reference))
    return ready, failures


def is_done(job, options=MaskOptions()):
    """True when every output of the sol opens, lies on the grid and was made with these options."""
    return output_state(job, expected_tags(job_options(job, options))) == DONE


def skipped(job):
    return Outcome(job.source, "skipped", "outputs exist")


def run_job(job, options, model=None, progress=None, cancel=None, overwrite=False):
    """Make one sol's products under its claim. Never raises for a bad input: the Outcome says what
    went wrong, and why outputs that were there were made again."""
    options = job_options(job, options)
    try:
        state = TODO if overwrite else output_state(job, expected_tags(options))
    except CloudmaskError as exc:      # the model or reference file cannot be read: this sol fails
        return Outcome(job.source, "failed", str(exc))
    if state == DONE:
        return skipped(job)
    t0 = time.perf_counter()
    try:
        with claimed(job) as mine:
            if not mine:
                return Outcome(job.source, "skipped", f"claimed by another run (pid {holder(job)})", claimed=True)
            if not overwrite and output_state(job, expected_tags(options)) == DONE:
                return skipped(job)                  # the other run finished it while we waited
            result = make_products(job.source, job.outputs, options, model, progress, cancel)
    except CloudmaskError as exc:
        return Outcome(job.source, "failed", str(exc), seconds=time.perf_counter() - t0)
    except Cancelled:
        raise
    except Exception as exc:  # a batch goes on past anything one file can throw
        return Outcome(job.source, "failed", f"{job.source}: {type(exc).__name__}: {exc}",
                       seconds=time.perf_counter() - t0)
    cloud, valid = result.fractions
    return Outcome(job.source, "done", "", cloud, valid, time.perf_counter() - t0,
                   redone="" if state == TODO else state)


def failures_report(outcomes):
    """Closing lines of a batch: counts, then one line per sol redone (and why) and per failed file."""
    counts = {s: sum(o.status == s for o in outcomes) for s in ("done", "skipped", "failed")}
    claimed = sum(o.claimed for o in outcomes)
    redone = [o for o in outcomes if o.redone]
    lines = [f"{counts['done']} done, {counts['skipped'] - claimed} skipped (outputs exist), {counts['failed']} failed"
             + (f", {len(redone)} redone" if redone else "")
             + (f", {claimed} left to another run working on the same folder" if claimed else "")]
    lines += [f"  REDONE {o.source.name}: {o.redone}" for o in redone]
    lines += [f"  FAILED {o.message}" for o in outcomes if o.status == "failed"]
    return lines
