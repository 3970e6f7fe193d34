"""Each patient's PDF compiled on its own, tagged (PDF/UA-1, in the patient's language), by
worker processes: one per core, each with its own kept Typst compiler.

typst-py holds Python's lock while it compiles, so threads would not help; processes do. The
main process builds each sheet and its Typst markup, hands groups of markup to the workers in
appointment order, and writes the PDFs they return in that same order; it compiles nothing
itself while it has workers (with a memo of its own to fill, that was slower than waiting),
and the print file is put together in a process of its own (`ketaprep.pdf_join`). A short list
is compiled in the main process (starting the workers would cost more than they save).

`KETAPREP_PDF_WORKERS` overrides the number of workers: 0 compiles in the main process
whatever the list's length, N > 0 starts N workers even for a short list (the tests use it).
Workers are started with `spawn` (a fresh interpreter), never `fork`: the main process may
already run threads (the writer, Typst's own) that a forked child would lack.
"""

from __future__ import annotations

import collections
import concurrent.futures
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ketaprep.batch.signals import signals_deferred
from ketaprep.errors import KetaprepError
from ketaprep.stops import held_back
from ketaprep.typst_compile import Job, compile_group, compile_job, start_worker, worker_ready

GROUP = 8
"""Sheets per task: few enough to keep every worker busy to the end, enough to make handing
them over cheap."""
AHEAD = 3
"""Tasks handed out per worker before the main process waits for the oldest (bounded memory)."""
SHORT_LIST = 40
"""Fewer patients than this are compiled in the main process."""
ENV = "KETAPREP_PDF_WORKERS"


def workers_for(count: int) -> int:
    """How many worker processes for `count` sheets (0: compile in this process)."""
    wanted = os.environ.get(ENV, "").strip()
    if wanted:
        try:
            return max(0, min(int(wanted), 64))
        except ValueError:
            raise KetaprepError(f"{ENV}={wanted!r}: expected a whole number of worker processes (0 for none)") from None
    if count < SHORT_LIST:
        return 0
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return cores if cores > 1 else 0


@dataclass
class Task:
    """A group of jobs handed to a worker (`future`; None if the pool could not take it)."""

    members: list[Any]
    jobs: list[Job]
    future: concurrent.futures.Future[list[bytes | str]] | None = None

    @classmethod
    def of(cls, group: list[tuple[Any, Job]]) -> Task:
        return cls([item for item, _job in group], [job for _item, job in group])


class Compiled:
    """The PDFs of a stream of (item, job) pairs, yielded in the same order as
    (item, pdf bytes | KetaprepError): in worker processes when there are `workers`, else here."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool: concurrent.futures.ProcessPoolExecutor | None = None
        if workers:
            import multiprocessing

            self.pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=start_worker
            )
            with held_back():  # inherited (ketaprep.stops): a Ctrl-C at the terminal is the main process's alone
                for _ in range(workers):  # one task each starts every worker now, not later
                    self.pool.submit(worker_ready)

    def run(self, items: Iterable[tuple[Any, Job]]) -> Iterator[tuple[Any, bytes | KetaprepError]]:
        if self.pool is None:
            for item, job in items:
                try:
                    yield item, compile_job(job)
                except KetaprepError as exc:
                    yield item, exc
            return
        source = iter(items)
        pending: collections.deque[Task] = collections.deque()
        exhausted = False

        def next_group() -> list[tuple[Any, Job]]:
            nonlocal exhausted
            group = []
            for pair in source:
                group.append(pair)
                if len(group) >= GROUP:
                    break
            else:
                exhausted = True
            return group

        while True:
            while not exhausted and len(pending) < AHEAD * self.workers:
                group = next_group()
                if group:
                    pending.append(self._submit(group))
            if not pending:
                return
            # This process compiles nothing while it has workers (a compile here, with a memo of
            # its own to fill, was slower than waiting: the workers already have every core).
            yield from self._collect(pending.popleft())

    def _submit(self, group: list[tuple[Any, Job]]) -> Task:
        assert self.pool is not None
        task = Task.of(group)
        try:
            task.future = self.pool.submit(compile_group, task.jobs)
        except (concurrent.futures.BrokenExecutor, RuntimeError):
            pass  # no future: compiled here when its turn comes
        return task

    def _collect(self, task: Task) -> Iterator[tuple[Any, bytes | KetaprepError]]:
        results = None
        if task.future is not None:
            try:
                results = task.future.result()
            except Exception:  # a worker died (killed, out of memory...): this group is compiled here
                results = None
        if results is None:
            results = compile_group(task.jobs)
        for item, result in zip(task.members, results, strict=True):
            yield item, result if isinstance(result, bytes) else KetaprepError(result)

    def close(self) -> None:
        """Stop the workers: what they have not started is dropped, what they are compiling is
        finished (a group, a fraction of a second). Never killed: a worker killed while it hands
        back its PDFs leaves half a message in the pipe, and Python's pool then waits forever."""
        if self.pool is None:
            return
        pool, self.pool = self.pool, None
        pool.shutdown(wait=True, cancel_futures=True)


def each_pdf(
    workers: int, items: Iterable[tuple[Any, Job]], stop: Callable[[], None]
) -> Iterator[tuple[Any, bytes | KetaprepError]]:
    """`Compiled(workers).run(items)`, the workers stopped however the loop ends; `stop` is
    called between results (the batch's checkpoint for Ctrl-C and SIGTERM)."""
    compiled = Compiled(workers)
    try:
        for pair in compiled.run(items):
            stop()
            yield pair
    finally:
        with signals_deferred():  # a second Ctrl-C does not cut the workers' stop short
            compiled.close()
