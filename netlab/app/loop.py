"""Kernel work from inside a running asyncio loop (a Jupyter kernel runs one).

pyroute2's synchronous API drives an event loop of its own with `run_until_complete`,
which asyncio refuses in a thread whose loop is already running ("This event loop is
already running"). Such calls go to a short-lived worker thread, which has no loop."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor


def in_running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def off_loop(fn, *args, **kw):
    """fn(*args, **kw), in a worker thread when this thread runs an event loop."""
    if not in_running_loop():
        return fn(*args, **kw)
    with ThreadPoolExecutor(1, thread_name_prefix="netlab") as pool:
        return pool.submit(fn, *args, **kw).result()
