"""Run one stage of `make book` / `make test` with a readable console and the full log in a file.

    python tools/progress.py STAGE -- COMMAND [ARG ...]

The command's whole output (stdout and stderr: TensorFlow's C++ log lines, kernel warnings,
pytest's per-cell lines) goes to ``_build/logs/STAGE.log``. The console gets one line per
chapter (notebooks and build stages) with its seconds and an estimate of what remains, and one
summary line for the stage: pytest's closing line where there is one, the log's path, and on
failure the log's last lines, so a real error is never hidden.

Estimates come from ``tools/timings.json`` (seconds per chapter and stage, measured on a 2-core
machine by a full ``make test``; the status page shows it). Every successful stage also writes
its times to ``_build/logs/timings.json``; ``--record`` writes them to ``tools/timings.json``.

Stages it knows how to follow:
* ``notebooks`` — nbval (``pytest -v``): a chapter ends when the next chapter's first cell starts;
  under pytest-xdist, when the worker that ran it reports a cell of its next chapter.
* ``build`` / ``book`` — Jupyter Book: a chapter starts at Sphinx's ``reading sources... chapters/x``
  and MyST-NB logs ``Executed notebook in N seconds`` or ``Using cached notebook``.
* anything else — one summary line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMINGS = ROOT / "tools" / "timings.json"

# pytest -v writes a test's id when the test starts and its outcome when it ends, on one line.
NBVAL_CELL = re.compile(r"^chapters/([\w-]+)(?:\.ipynb|::ipynb)::Cell \d+ ")
# Under pytest-xdist (make notebooks runs two chapters at a time) each result line names its worker.
XDIST_CELL = re.compile(r"^\[(gw\d+)\] \[\s*\d+%\] [A-Z]+ chapters/([\w-]+)(?:\.ipynb|::ipynb)::Cell \d+")
XDIST_START = re.compile(r"^created: \d+/\d+ workers")  # pytest-xdist's first line: from here on, only XDIST_CELL counts
READING = re.compile(r"reading sources\.\.\. \[\s*\d+%\] (chapters/[\w-]+|[\w-]+)\s*$")
PYTEST_CLOSING = re.compile(r"^=+ .*(passed|failed|error|no tests ran).* in [\d.]+s.* =+$")


def _minutes(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"


class Follower:
    """Turns a stage's log lines into one console line per finished chapter."""

    def __init__(self, stage: str, expected: dict[str, float]) -> None:
        self.stage = stage
        self.expected = expected
        self.current: str | None = None
        self.started = time.perf_counter()
        self.done: dict[str, float] = {}
        self.closing: str | None = None
        self.workers: dict[str, tuple[str, float]] = {}  # xdist worker -> (its chapter, when it started)
        self.n_workers = 1
        self.xdist = False  # under pytest-xdist, the bare cell ids it echoes as cells start say nothing of order

    def _remaining(self) -> str:
        running = {self.current} | {name for name, _ in self.workers.values()}
        left = [s for name, s in self.expected.items() if name not in self.done and name not in running]
        if not self.expected or not left:
            return ""
        # the expected times are one chapter's wall time; with n workers, n chapters run at once
        return f", about {_minutes(sum(left) / self.n_workers)} left"

    def _report(self, name: str, seconds: float) -> None:
        self.done[name] = seconds
        n = len(self.done)
        count = f"{n}/{len(self.expected)}" if len(self.expected) >= n else f"{n}"
        print(f"  {self.stage:<9} {name:<22} {seconds:6.0f} s   ({count}{self._remaining()})", flush=True)

    def _finish_current(self) -> None:
        if self.current is not None:
            name, self.current = self.current, None
            self._report(name, time.perf_counter() - self.started)
        for worker in list(self.workers):
            name, started = self.workers.pop(worker)
            self._report(name, time.perf_counter() - started)

    def _worker_at(self, worker: str, name: str) -> None:
        """An xdist worker reported a cell of chapter ``name``: its previous chapter has ended."""
        self.current = None  # a serial "current chapter" guessed from a start line means nothing here
        previous = self.workers.get(worker)
        if previous is not None and previous[0] == name:
            return
        now = time.perf_counter()
        self.workers[worker] = (name, now)
        self.n_workers = max(self.n_workers, len(self.workers))
        if previous is not None:
            self._report(previous[0], now - previous[1])

    def _start(self, name: str) -> None:
        if name == self.current:
            return
        self._finish_current()
        self.current = name
        self.started = time.perf_counter()

    def partial(self, text: str) -> None:
        """The start of a line not yet ended: nbval has just started a cell."""
        if self.stage.startswith("notebooks") and not self.xdist:
            m = NBVAL_CELL.match(text)
            if m:
                self._start(m.group(1))

    def feed(self, line: str) -> None:
        line = line.rstrip("\n")
        if PYTEST_CLOSING.match(line.strip()):
            self.closing = line.strip()
            self._finish_current()
        if line.startswith(("pickling environment", "checking consistency")):
            self._finish_current()  # Sphinx has read (and executed) every document
        if self.stage.startswith("notebooks"):
            if XDIST_START.match(line):
                self.xdist = True
            x = XDIST_CELL.match(line)
            if x:
                self._worker_at(x.group(1), x.group(2))
            elif not self.xdist and (m := NBVAL_CELL.match(line)):
                self._start(m.group(1))
        elif self.stage in ("build", "book"):
            m = READING.search(line)
            if m:
                self._start(m.group(1).split("/")[-1])

    def close(self) -> None:
        self._finish_current()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stage")
    parser.add_argument("--record", action="store_true", help="write this run's chapter times to tools/timings.json")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command after --")
    log_dir = ROOT / "_build" / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{args.stage}.log"
    timings = json.loads(TIMINGS.read_text()) if TIMINGS.exists() else {}
    follower = Follower(args.stage, {k: float(v) for k, v in timings.get(args.stage, {}).get("chapters", {}).items()})
    expected_total = timings.get(args.stage, {}).get("total")
    hint = f" (about {_minutes(expected_total)} on 2 cores)" if expected_total else ""
    print(f"== {args.stage}: {' '.join(command)}{hint}; full log: {log_path.relative_to(ROOT)}", flush=True)
    start = time.perf_counter()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, bufsize=0)
        assert proc.stdout is not None
        pending = ""
        while chunk := os.read(proc.stdout.fileno(), 65536):
            pending += chunk.decode("utf-8", errors="replace")
            *lines, pending = pending.split("\n")
            for line in lines:
                log.write(line + "\n")
                follower.feed(line)
            log.flush()
            follower.partial(pending)
        if pending:
            log.write(pending)
            follower.feed(pending)
        rc = proc.wait()
    follower.close()
    total = time.perf_counter() - start
    status = "passed" if rc == 0 else f"FAILED (exit {rc})"
    if follower.closing:
        print(follower.closing, flush=True)  # pytest's own closing line, e.g. "=== 986 passed in 100.2s ==="
    print(f"== {args.stage} {status} in {total:.0f} s; full log: {log_path.relative_to(ROOT)}", flush=True)
    if rc != 0:
        tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-60:]
        print(f"-- last {len(tail)} lines of {log_path.relative_to(ROOT)}:", flush=True)
        print("\n".join(tail), flush=True)
    if rc == 0:  # this run's times, per stage: _build/logs/timings.json (tools/timings.json with --record)
        measured = {"total": round(total), "chapters": {k: round(v) for k, v in follower.done.items()}}
        this_run = log_dir / "timings.json"
        runs = json.loads(this_run.read_text()) if this_run.exists() else {}
        runs[args.stage] = measured
        this_run.write_text(json.dumps(runs, indent=1, sort_keys=True) + "\n")
        if args.record:
            timings[args.stage] = measured
            TIMINGS.write_text(json.dumps(timings, indent=1, sort_keys=True) + "\n")
    return rc


if __name__ == "__main__":
    sys.exit(main())
