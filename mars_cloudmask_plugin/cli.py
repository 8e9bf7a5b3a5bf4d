"""`mars-cloudmask`: cloud masks from MARCI MDGMs on the command line.

Each subcommand of the core lives in mars_cloudmask_plugin/commands/<name>.py with
`register(subparsers)`. The lab's subcommands (train, ensemble, evaluate, seasons, benchmark) register
themselves through the entry-point group `mars_cloudmask.commands` (pyproject.toml), so the core
never imports the lab and works without it. Errors a user can act on print one line and exit 1;
nothing prints a traceback for bad input.
"""
import argparse
import contextlib
import importlib
import os
import signal
import sys
from importlib.metadata import entry_points

from . import __version__
from .errors import Cancelled, CloudmaskError, Terminated

COMMANDS = ("predict", "batch", "reference", "analyses", "mdad")
COMMAND_GROUP = "mars_cloudmask.commands"


def extra_commands():
    """(name, register) of the subcommands other packages add (the lab), in name order."""
    return sorted((ep.name, ep) for ep in entry_points(group=COMMAND_GROUP))


def build_parser():
    parser = argparse.ArgumentParser(
        prog="mars-cloudmask",
        description="Water-ice cloud masks from MRO MARCI Mars Daily Global Maps (MDGMs), "
                    "georeferenced on the 0.1-degree global grid in IAU_2015:49900.")
    parser.add_argument("--version", action="version", version=f"mars-cloudmask {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f".commands.{name}", __package__).register(sub)
    for name, entry in extra_commands():
        if name not in COMMANDS:
            entry.load()(sub)
    return parser


def _terminate(signum, frame):
    raise Terminated()


@contextlib.contextmanager
def sigterm_as_cancel():
    """SIGTERM raises Terminated in the main thread, so it unwinds like Ctrl-C: temporary files are
    removed on the way out and a batch prints what it did. Outside the main thread: left alone."""
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:          # not the main thread (e.g. a test calling main from a thread)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out
    args = build_parser().parse_args(argv)
    with sigterm_as_cancel():
        try:
            return args.func(args) or 0
        except CloudmaskError as exc:
            print(f"mars-cloudmask: error: {exc}", file=sys.stderr)
            return 1
        except Cancelled as exc:
            print(f"mars-cloudmask: {'terminated' if isinstance(exc, Terminated) else 'interrupted'}",
                  file=sys.stderr)
            return exc.exit_status
        except KeyboardInterrupt:
            print("mars-cloudmask: interrupted", file=sys.stderr)
            return Cancelled.exit_status


if __name__ == "__main__":
    sys.exit(main())
