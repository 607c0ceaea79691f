"""Start-up of a command: its imports, without the garbage collector.

Importing the modules a command needs creates a few hundred thousand objects and frees almost none, and Python's
collector walks them again and again while they pile up (~20 ms of `slo check`'s half second). Inside `uncollected()`
no collection runs; at its end the objects made so far (modules, classes, functions: alive until the process ends)
are frozen out of the collector's sight (`gc.freeze`) and collection resumes as it was, so the command's own work is
collected as usual. Re-enabling without freezing would pay the whole walk at the next allocation. When a command
called with arguments ends (tests, a sensor calling `main(args)`), `main` hands the frozen objects back (`thaw`), so
a process that runs many commands keeps collecting whatever garbage was frozen with them; the process's own command
line (`slo ...`) leaves them frozen, since thawing would only make the interpreter's shutdown walk them all.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def uncollected() -> Iterator[None]:
    """No garbage collection inside; what exists at the end is frozen (gc.freeze) and the collector restored."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def thaw() -> None:
    """Everything `uncollected` froze, back in the collector's sight (at the end of a command called with
    arguments)."""
    gc.unfreeze()
