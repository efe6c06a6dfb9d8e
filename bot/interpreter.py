"""Process-wide interpreter settings for a server process, set in this one place.

Both change the whole process, not one component, so they are applied by the server (and the
benchmarks that measure it), never as a side effect of building something.

- The GIL switch interval (0.5 ms instead of CPython's 5 ms). aiosqlite runs statements on its own
  thread; at 5 ms the event loop, handing a statement over, can wait up to 5 ms for the GIL while that
  thread holds it. Measured: the reminder dispatcher sends about a fifth more per second on less CPU
  (`python -m benchmarks.reminders`, docs/benchmarks.md). Turn off: do not call `tune_switch_interval`.
- `gc.freeze()` after start-up, for a process that runs one server for its whole life. Everything
  built at start-up (the knowledge base, its indexes, the templates) lives as long as the server: out of
  the collector's reach, a full collection no longer walks it (about 180 ms every few hundred requests,
  seen in the console benchmark's p99). Tests build many apps in one process and must not freeze.
"""

from __future__ import annotations

import gc
import sys

GIL_SWITCH_INTERVAL = 0.0005
"""Seconds."""


def tune_switch_interval() -> None:
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)


def freeze_startup_objects() -> None:
    """Moves everything alive now out of the garbage collector's generations (see the module doc)."""
    gc.collect()
    gc.freeze()
