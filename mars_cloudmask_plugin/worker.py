"""Run one engine function in a worker process of another Python (the plugin's network runtime),
as if it ran here: its progress and other callbacks come back as they happen, cancel stops it
within a second, an engine error comes back as the same CloudmaskError, its result comes back
pickled, and its memory (TensorFlow, the model) is freed when the process ends.

    parent:  run_in_worker(python, pipeline.make_products, src, paths, options,
                           progress=..., cancel=..., sys_path=[PLUGIN_PARENT])
    worker:  python -m <package>.mars_cloudmask_plugin.worker JOB     (started by the parent)

The job file holds the pickled (module, function, args, kwargs, callback names). The worker writes
one JSON object per line on its protocol stream (its stdout; anything else the function prints goes
to stderr, which the parent forwards line by line to `on_log`): {"call": name, "args": b64} for a
callback, then {"result": true} (the pickled result lies in JOB.result), {"error": ...} or
{"cancelled": true}. Pickles name classes by module, so both sides import the engine under the same
dotted names: the parent passes the folder above its top-level package in `sys_path`.

Also here: `stream_command`, the one loop that runs a command, hands over its output lines as they
come and kills its process group on cancel (used for the worker and for pip).

No qgis import: this module is the engine's (tests run it without QGIS).
"""
import base64
import json
import os
import pickle
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from .errors import Cancelled, CloudmaskError, Terminated

POLL_SECONDS = 0.05         # how often the parent looks at cancel()
TERM_GRACE_SECONDS = 0.6    # SIGTERM first (temporary files removed), SIGKILL after this
CANCEL = "cancel"           # the keyword the engine polls; in the worker it reads the SIGTERM flag


class WorkerError(Exception):
    """The worker failed outside the engine's own errors (crash, killed, broken runtime): one line."""


# -- running a command: lines as they come, cancel kills the process group ---------------------

def stream_command(command, on_stdout=None, on_stderr=None, cancel=None, env=None, cwd=None):
    """Run `command`, calling on_stdout/on_stderr(line) for each line (without its newline) as it
    comes; when `cancel()` turns true, SIGTERM the command's process group, SIGKILL it after
    TERM_GRACE_SECONDS, and raise Cancelled. Returns the exit status. The command gets its own
    session, so its children (pip's builds, Dask workers) go with it."""
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, cwd=cwd, start_new_session=True)
    lines = queue.Queue()
    readers = [threading.Thread(target=_read_lines, args=(stream, handler, lines), daemon=True)
               for stream, handler in ((proc.stdout, on_stdout), (proc.stderr, on_stderr))]
    for reader in readers:
        reader.start()
    open_streams = len(readers)
    try:
        while open_streams:
            if cancel is not None and cancel():
                stop(proc)
                raise Cancelled()
            try:
                handler, line = lines.get(timeout=POLL_SECONDS)
            except queue.Empty:
                continue
            if line is None:
                open_streams -= 1
            elif handler is not None:
                handler(line)
        while proc.poll() is None:
            if cancel is not None and cancel():
                stop(proc)
                raise Cancelled()
            time.sleep(POLL_SECONDS)
        return proc.returncode
    except BaseException:
        stop(proc)          # an exception in a handler, Ctrl-C: never leave the command running
        raise


def _read_lines(stream, handler, lines):
    with stream:
        for raw in stream:
            lines.put((handler, raw.decode("utf-8", "replace").rstrip("\r\n")))
    lines.put((handler, None))


def stop(proc):
    """SIGTERM the process group of `proc`, then SIGKILL it if it is still there after the grace time."""
    if proc.poll() is not None:
        return
    _signal_group(proc, signal.SIGTERM)
    try:
        proc.wait(TERM_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        _signal_group(proc, getattr(signal, "SIGKILL", signal.SIGTERM))
        proc.wait()


def _signal_group(proc, signum):
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signum)
        elif signum == signal.SIGTERM:      # Windows (untested): no process groups to signal
            proc.terminate()
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass


# -- the parent's side ---------------------------------------------------------------------------

def run_in_worker(python, function, *args, sys_path=(), on_log=None, env=None, **kwargs):
    """`function(*args, **kwargs)` run by `python` in a worker process; returns its result.

    Callable keyword arguments (progress, on_outcome, ...) are called here with what the worker
    passes them; `cancel` is polled here and stops the worker. Raises what the engine raised
    (CloudmaskError, Cancelled) or WorkerError for anything else; `on_log(line)` gets the worker's
    other output (warnings, TensorFlow's messages) and the traceback of a crash."""
    cancel = kwargs.pop(CANCEL, None)
    callbacks = {name: value for name, value in kwargs.items() if callable(value)}
    plain = {name: value for name, value in kwargs.items() if name not in callbacks}
    module = function.__module__
    job = {"module": module, "function": function.__qualname__, "args": args, "kwargs": plain,
           "callbacks": sorted(callbacks), "cancel": cancel is not None}
    log = on_log or (lambda line: None)
    with tempfile.TemporaryDirectory(prefix="mars_cloudmask_worker_") as tmp:
        job_file = Path(tmp) / "job.pickle"
        job_file.write_bytes(pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL))
        outcome, last_lines = {}, []

        def on_message(line):
            try:
                message = json.loads(line)
            except ValueError:
                return on_other(line)
            if "call" in message:
                callbacks[message["call"]](*pickle.loads(base64.b64decode(message["args"])))
            else:
                outcome.update(message)

        def on_other(line):
            last_lines[:] = (last_lines + [line])[-5:]
            log(line)
        environment = dict(os.environ if env is None else env)
        environment["PYTHONPATH"] = os.pathsep.join([*map(str, sys_path)] +
                                                    [p for p in environment.get("PYTHONPATH", "").split(os.pathsep) if p])
        environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        status = stream_command([str(python), "-m", __name__, str(job_file)], on_message, on_other,
                                cancel, environment, cwd=tmp)
        if outcome.get("result"):
            return pickle.loads((Path(tmp) / "job.pickle.result").read_bytes())
    if "cloudmask_error" in outcome:
        raise CloudmaskError(outcome["path"], outcome["problem"])
    if outcome.get("cancelled"):
        raise Cancelled()
    if "error" in outcome:
        log(outcome.get("traceback", ""))
        raise WorkerError(f"the network runtime's worker ({python}) failed: {outcome['error']}")
    why = f"killed by signal {-status}" if status < 0 else f"exit status {status}"
    tail = f"; last output: {' | '.join(last_lines)}" if last_lines else ""
    raise WorkerError(f"the network runtime's worker ({python}) stopped without a result ({why}){tail}")


# -- the worker's side ---------------------------------------------------------------------------

def _send(channel, message):
    channel.write(json.dumps(message) + "\n")
    channel.flush()


def _proxy(channel, name):
    def call(*args):
        _send(channel, {"call": name, "args": base64.b64encode(pickle.dumps(args)).decode("ascii")})
    return call


def _terminate(signum, frame):
    raise Terminated()


def _exit_with_parent(parent):
    """Should QGIS die (crash, kill -9), the worker goes too instead of computing for no one."""
    while True:
        time.sleep(1)
        if os.getppid() != parent:
            os._exit(1)


def main(argv=None):
    """The worker: run the job in argv[0], report on the protocol stream, exit."""
    job_file = Path((argv if argv is not None else sys.argv[1:])[0])
    # The protocol gets the real stdout; whatever else is printed goes to stderr.
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    signal.signal(signal.SIGTERM, _terminate)      # unwinds like Ctrl-C: temporary files removed
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    try:
        job = pickle.loads(job_file.read_bytes())
        import importlib
        function = importlib.import_module(job["module"])
        for part in job["function"].split("."):
            function = getattr(function, part)
        kwargs = dict(job["kwargs"], **{name: _proxy(channel, name) for name in job["callbacks"]})
        if job["cancel"]:
            kwargs[CANCEL] = lambda: False          # the parent stops us with SIGTERM
        result = function(*job["args"], **kwargs)
        Path(f"{job_file}.result").write_bytes(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
        _send(channel, {"result": True})
    except CloudmaskError as exc:
        _send(channel, {"cloudmask_error": True, "path": exc.path, "problem": exc.problem})
    except Cancelled:
        _send(channel, {"cancelled": True})
        return 130
    except BaseException as exc:  # noqa: B902 (everything goes back to the parent as one line)
        _send(channel, {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()})
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
