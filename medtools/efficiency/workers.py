"""Process control for data-parallel training: free ports, ``TF_CONFIG``, and worker processes that are always stopped.

Introduced in the chapter *Efficiency and scalability* (``chapters/efficiency``):
:func:`free_ports`, :func:`tf_config` (one worker per port on 127.0.0.1) and
:func:`launch_workers`, which runs ``python -m medtools.efficiency …`` once per worker, each in its
own process group, within a time limit, and kills every process still running at the end
(:class:`WorkerResult` per worker). Used by :mod:`medtools.efficiency.distributed`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "WorkerResult",
    "free_ports",
    "launch_workers",
    "tf_config",
]


def free_ports(n: int, host: str = "127.0.0.1") -> list[int]:
    """``n`` distinct TCP ports that are free on ``host`` right now (the OS picks them)."""
    if int(n) < 1:
        raise ValueError(f"n must be >= 1, got {n}.")
    socks, ports = [], []
    try:
        for _ in range(int(n)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((host, 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def tf_config(ports: Sequence[int], index: int, host: str = "127.0.0.1") -> dict[str, Any]:
    """The ``TF_CONFIG`` of worker ``index`` in a cluster of one worker per port on ``host``.

    ``{"cluster": {"worker": ["127.0.0.1:p0", …]}, "task": {"type": "worker", "index": index}}``;
    worker 0 is the chief (it writes the results).
    """
    ports = [int(p) for p in ports]
    if not ports or not all(0 < p < 65536 for p in ports):
        raise ValueError(f"ports must be a non-empty list of TCP ports, got {ports}.")
    if not 0 <= int(index) < len(ports):
        raise ValueError(f"index must be in 0..{len(ports) - 1}, got {index}.")
    return {
        "cluster": {"worker": [f"{host}:{p}" for p in ports]},
        "task": {"type": "worker", "index": int(index)},
    }


@dataclass
class WorkerResult:
    """One finished worker process: its index, exit code, wall seconds, stdout and stderr."""

    index: int
    returncode: int
    seconds: float
    stdout: str = field(repr=False)
    stderr: str = field(repr=False)


def _stop(procs: Sequence[subprocess.Popen]) -> None:
    """Kill each still-running process's group (our own children only) and reap it."""
    for p in procs:
        if p.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(p.pid, signal.SIGKILL)
    for p in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.wait(timeout=10)


def launch_workers(
    args: Sequence[str],
    n_workers: int = 2,
    *,
    timeout_s: float = 180.0,
    env: dict[str, str] | None = None,
) -> list[WorkerResult]:
    """Run ``python -m medtools.efficiency *args`` once per worker, on 127.0.0.1, and wait.

    Each process gets its own ``TF_CONFIG`` (:func:`tf_config`, free ports from
    :func:`free_ports`) and its own process group. When every worker has exited, or at
    ``timeout_s``, or on any error, every process still running is killed: nothing is left
    behind.

    Args:
        args: the command line after ``-m medtools.efficiency``, e.g. ``["worker", "--out", …]``.
        n_workers: processes to start (>= 1).
        timeout_s: wall-clock limit for all of them together.
        env: extra environment variables for the workers (the parent's are inherited).

    Returns:
        One :class:`WorkerResult` per worker, in index order.

    Raises:
        ValueError: ``n_workers < 1`` or ``timeout_s <= 0``.
        TimeoutError: the workers did not finish in ``timeout_s`` (the message holds the end of
            each worker's stderr).
        RuntimeError: a worker exited with a non-zero code (the message holds its stderr).
    """
    if int(n_workers) < 1:
        raise ValueError(f"n_workers must be >= 1, got {n_workers}.")
    if not timeout_s > 0:
        raise ValueError(f"timeout_s must be > 0, got {timeout_s}.")
    ports = free_ports(int(n_workers))
    procs: list[subprocess.Popen] = []
    files = []
    start = time.perf_counter()
    try:
        for i in range(int(n_workers)):
            wenv = {**os.environ, **(env or {}), "TF_CONFIG": json.dumps(tf_config(ports, i))}
            wenv.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            out, err = tempfile.TemporaryFile(mode="w+"), tempfile.TemporaryFile(mode="w+")
            files.append((out, err))
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "medtools.efficiency", *args],
                    stdout=out,
                    stderr=err,
                    env=wenv,
                    start_new_session=True,  # own process group: killed as a whole
                )
            )
        seconds = [0.0] * len(procs)
        while any(p.poll() is None for p in procs):
            if time.perf_counter() - start > timeout_s:
                break
            time.sleep(0.05)
            for i, p in enumerate(procs):
                if p.returncode is not None and not seconds[i]:
                    seconds[i] = time.perf_counter() - start
        timed_out = any(p.poll() is None for p in procs)
    finally:
        _stop(procs)
    results = []
    for i, (p, (out, err)) in enumerate(zip(procs, files, strict=True)):
        out.seek(0)
        err.seek(0)
        results.append(WorkerResult(i, int(p.returncode), seconds[i] or time.perf_counter() - start, out.read(), err.read()))
        out.close()
        err.close()
    if timed_out:
        tails = "\n".join(f"worker {r.index}: ...{r.stderr[-800:]}" for r in results)
        raise TimeoutError(f"the {n_workers} workers did not finish within {timeout_s:.0f} s and were killed.\n{tails}")
    failed = [r for r in results if r.returncode != 0]
    if failed:
        r = failed[0]
        raise RuntimeError(f"worker {r.index} exited with code {r.returncode}:\n...{r.stderr[-2000:]}")
    return results
