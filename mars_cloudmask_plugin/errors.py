"""Errors a user can act on: each names the file and the problem in one line."""


class CloudmaskError(Exception):
    """Bad input or an output that cannot be written; `str()` is the one-line message."""

    def __init__(self, path, problem):
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)


class Cancelled(BaseException):
    """The caller asked to stop (QGIS cancel button, Ctrl-C, SIGTERM). A BaseException, like
    KeyboardInterrupt: no `except Exception` on the way may take it for a failure of one file."""
    exit_status = 130


class Terminated(Cancelled):
    """SIGTERM (kill, job schedulers, docker stop): handled like Ctrl-C, exit status 143."""
    exit_status = 143
