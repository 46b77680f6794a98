"""Progress on stderr for long runs (rich), shown only once a task has taken a second.

Problems and the study runner report progress through a plain callable, so they do not
depend on how (or whether) it is displayed.
"""

import sys
import time

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)

DELAY = 1.0   # seconds before a bar appears: short tasks stay quiet


class ProgressBar:
    """A progress bar that starts drawing after :data:`DELAY` seconds.

    Examples
    --------
    >>> with ProgressBar("levels", total=3, enabled=False) as bar:
    ...     for level in range(3):
    ...         bar.advance(status=f"level {level}")
    >>> bar.completed, bar.status
    (3, 'level 2')
    """

    def __init__(self, description, total=None, enabled=True, stream=None, eta=False):
        self.description = description
        self.eta = eta
        self.total = total
        self.enabled = enabled
        self.console = Console(file=stream or sys.stderr)
        self.start = time.perf_counter()
        self.completed = 0
        self.status = ""
        self._progress = None
        self._task = None

    def _show(self):
        if self._progress is None and self.enabled and \
                time.perf_counter() - self.start >= DELAY:
            columns = [TextColumn("[bold]{task.description}"), BarColumn(),
                       MofNCompleteColumn(), TimeElapsedColumn()]
            if self.eta:
                columns += [TextColumn("ETA"), TimeRemainingColumn()]
            self._progress = Progress(*columns, TextColumn("{task.fields[status]}"),
                                      console=self.console, transient=False)
            self._progress.start()
            self._task = self._progress.add_task(self.description, total=self.total,
                                                 completed=self.completed, status=self.status)

    def advance(self, steps=1, status=None):
        self.completed += steps
        self.update(status)

    def update(self, status=None):
        if status is not None:
            self.status = status
        self._show()
        if self._progress is not None:
            self._progress.update(self._task, completed=self.completed, total=self.total,
                                  status=self.status)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._progress is not None:
            self._progress.stop()
        return False
