"""Batch runs: the jobs of `batch.run_job` for a whole archive (`run_batch`), run serially or on Dask.

`run_jobs(jobs, options, workers=N)` starts a dask.distributed LocalCluster of N worker processes;
`scheduler="tcp://host:8786"` uses a running cluster instead (workers must see the same paths).
Either way each worker process loads the model once (`model.load_model` caches it per process and
every task of that process gets the same object), each sol's products are written atomically by
the writers (temporary name, then rename), sols whose products exist are skipped without being
sent to a worker (resumable), and the outputs equal a serial run's: the task is `run_job` itself.
A lost worker or a crash becomes a failed Outcome; the batch goes on. Dask is imported only here,
and only when a parallel run is asked for.
"""
import os
import uuid
from dataclasses import dataclass, field

from .batch import Outcome, failures_report, job_options, plan_jobs, run_job, skipped, with_folder_references
from .errors import Cancelled, CloudmaskError
from .options import AUTO_REFERENCE, MaskOptions
from .resume import DONE, expected_tags, output_state, sweep_partials
from .writers import check_writable_folder


@dataclass(frozen=True)
class Stamp:
    """Where a task ran: the worker process and the CloudModel object it used."""
    pid: int
    model_id: int


def tf_threads_for(workers, cores=None):
    """TensorFlow threads per worker process so that N workers together fill the cores, no more:
    each worker runs one sol at a time, and more threads than cores only adds switching."""
    return max(1, (cores or os.cpu_count() or 1) // max(1, workers))


_threads_set = []


def _set_tf_threads(threads):
    """Intra- and inter-op pool sizes for this process; only possible before TensorFlow's first op."""
    if not threads or _threads_set:
        return
    import tensorflow as tf
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        pass  # this process already ran TensorFlow: its pools stay as they are
    _threads_set.append(threads)


def worker_task(job, options, overwrite=False, tf_threads=None):
    """One sol on a Dask worker: (Outcome, Stamp). Module-level, so workers unpickle it by name."""
    from .errors import CloudmaskError
    from .model import load_model
    from .pipeline import model_path_for
    _set_tf_threads(tf_threads)
    model = None
    try:
        model = load_model(model_path_for(options))   # the process's cached model after the first task
    except CloudmaskError:
        pass                                     # run_job reports it as this sol's failure
    outcome = run_job(job, options, model=model, overwrite=overwrite)
    return outcome, Stamp(os.getpid(), id(model))


def run_jobs(jobs, options, workers=0, scheduler=None, overwrite=False, on_outcome=None, stamps=None,
             tf_threads=None, progress=None, cancel=None):
    """Outcomes of `jobs`, in job order; `on_outcome(outcome)` is called as each one finishes.

    workers=0 and no scheduler: serial, in this process, with `progress(fraction of the run)` and
    `cancel()` honoured between sols and between tiles. `stamps`, if a list, receives each
    parallel task's Stamp. Ctrl-C (or cancel) stops the run, raising Cancelled, after shutting the
    cluster down; the sols already written stay, and a rerun resumes after them.
    """
    on_outcome = on_outcome or (lambda outcome: None)
    outcomes = [None] * len(jobs)
    todo = []
    expected = {}      # per clear-sky reference: the tags a finished sol carries

    def done(job):
        if job.reference not in expected:
            try:
                expected[job.reference] = expected_tags(job_options(job, options))
            except CloudmaskError:
                expected[job.reference] = None       # run_job reports why this sol fails
        return expected[job.reference] is not None and output_state(job, expected[job.reference]) == DONE
    for i, job in enumerate(jobs):
        if not overwrite and done(job):
            outcomes[i] = skipped(job)
            on_outcome(outcomes[i])
        else:
            todo.append(i)
    if not todo:
        return outcomes
    if not workers and not scheduler:
        _run_serially(jobs, todo, outcomes, options, overwrite, on_outcome, progress, cancel)
        return outcomes
    _run_on_dask(jobs, todo, outcomes, options, workers, scheduler, overwrite, on_outcome, stamps, tf_threads)
    return outcomes


def _run_serially(jobs, todo, outcomes, options, overwrite, on_outcome, progress, cancel):
    from .model import load_model
    from .pipeline import model_path_for
    model = load_model(model_path_for(options))     # once for the run; a bad model file fails it here
    report = progress or (lambda fraction: None)
    try:
        for n, i in enumerate(todo):
            if cancel is not None and cancel():
                raise Cancelled()
            start, step = n / len(todo), 1 / len(todo)
            outcomes[i] = run_job(jobs[i], options, model, lambda f: report(start + step * f), cancel, overwrite)
            on_outcome(outcomes[i])
            report(start + step)
    except KeyboardInterrupt:
        raise Cancelled() from None


def _run_on_dask(jobs, todo, outcomes, options, workers, scheduler, overwrite, on_outcome, stamps, tf_threads):
    import logging

    from dask.distributed import Client, LocalCluster, as_completed

    if scheduler:
        cluster, client = None, Client(scheduler)
    else:
        # One thread per worker process: a worker makes one sol at a time (a whole-area pass holds
        # about 2 GB), and TensorFlow inside it gets cores // workers threads (tf_threads_for).
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(cluster)
        tf_threads = tf_threads or tf_threads_for(workers)
    try:
        run = uuid.uuid4().hex[:8]        # a key of its own: two runs on one scheduler never share a task
        futures = {client.submit(worker_task, jobs[i], options, overwrite, tf_threads, pure=False,
                                 key=f"sol-{run}-{i}-{jobs[i].source.stem}"): i for i in todo}
        try:
            for future in as_completed(futures):
                i = futures[future]
                try:
                    outcome, stamp = future.result()
                    if stamps is not None:
                        stamps.append(stamp)
                except Exception as exc:  # a worker died (memory, signal) or the cluster went away
                    outcome = Outcome(jobs[i].source, "failed",
                                      f"{jobs[i].source}: worker lost ({type(exc).__name__}: {exc})")
                outcomes[i] = outcome
                on_outcome(outcome)
        except KeyboardInterrupt:
            client.cancel(list(futures))
            raise Cancelled() from None
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


@dataclass
class BatchReport:
    """What a batch run did: the outcome of each sol it reached, in job order."""
    total: int
    outcomes: list = field(default_factory=list)
    cancelled: object = False

    def count(self, status):
        return sum(o.status == status for o in self.outcomes)

    @property
    def failed(self):
        return [o for o in self.outcomes if o.status == "failed"]

    def lines(self):
        """The closing lines: counts (and where a cancel stopped the run), then each failed file."""
        lines = failures_report(self.outcomes)
        if self.cancelled:
            lines[0] += f", cancelled after {len(self.outcomes)} of {self.total} sols"
        return lines


def run_batch(root, out_dir, options=MaskOptions(), overwrite=False, workers=0, scheduler=None,
              on_outcome=None, progress=None, cancel=None):
    """Every MDGM below the archive folder `root` -> its products in the mirrored tree under
    `out_dir`: the batch of the CLI, the QGIS batch algorithm and Dask alike. Sols whose outputs
    exist are skipped unless `overwrite`; a bad file fails alone and the run goes on. Serial runs
    report `progress(fraction)` and stop at the next tile once `cancel()` is true (Ctrl-C too);
    `workers` or `scheduler` run the sols on Dask (parallel.run_jobs)."""
    check_writable_folder(out_dir)
    jobs = plan_jobs(root, out_dir, options.formats, options.probability)
    if not jobs:
        raise CloudmaskError(root, "no MDGMs (*_zequat.jpg) found in this folder or below")
    sweep_partials(jobs)
    report = BatchReport(len(jobs))

    def finished(outcome):
        report.outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    try:
        if options.reference == AUTO_REFERENCE:
            jobs, failures = with_folder_references(jobs, root, out_dir, cancel)
            for outcome in failures:
                finished(outcome)
        run_jobs(jobs, options, workers, scheduler, overwrite, finished, progress=progress, cancel=cancel)
    except Cancelled as exc:
        report.cancelled = exc           # truthy: what stopped the run (Ctrl-C, SIGTERM, QGIS cancel)
    return report
