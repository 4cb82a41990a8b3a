"""The worker processes of ``pecopt compare``: forked from a server process that has
imported pecopt once (``forkserver``; ``spawn`` where that is unavailable).

A light module (the standard library only), so that the command can start the server
first and let it import in the background while the command itself imports and
validates.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.context import BaseContext

#: Imported once in the server, not in each worker: pecopt's solve path, and the weather
#: and solver libraries pecopt imports on first use (about 1 s).
PRELOAD = ["pecopt.workflows.compare", "pecopt.workflows.solve", "pvlib", "highspy"]


def context(start: bool = False) -> BaseContext:
    """The workers' start method; ``start``: start the fork server now."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        if start:
            from multiprocessing import forkserver

            forkserver.ensure_running()
        return ctx
    return multiprocessing.get_context("spawn")
