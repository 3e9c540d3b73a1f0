"""Ingest a file through the configured platform, with a progress bar on a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TextIO

from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from services.ingest.admission import AdmissionPool, IntakeRecipe, default_workers
from services.ingest.mapping import load_mapping
from services.ingest.pipeline import IngestPipeline, IngestSummary
from services.ingest.pipeline import Progress as PipelineProgress
from services.ingest.submission import Submission, open_submissions
from services.platform import Platform

__all__ = ["ingest_file", "pipeline_for"]


class _CountingLines:
    """Iterates a text stream's lines and counts the characters read (for the progress bar)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.read = 0

    def __iter__(self) -> Iterator[str]:
        for line in self._stream:
            self.read += len(line)
            yield line


#: Below this size an ingest runs inline: starting worker processes would cost more than it saves.
PARALLEL_FROM_BYTES = 4 * 1024 * 1024


def _workers(platform: Platform, path: Path) -> int:
    configured = platform.settings.ingest_workers
    if configured is not None:
        return configured
    if platform.settings.log == "memory" or path.stat().st_size < PARALLEL_FROM_BYTES:
        return 0
    return default_workers()


class _CountedPipeline(IngestPipeline):
    """The pipeline whose outcomes feed this process's ingest counter (``/metrics``): every
    ingest path (the CLI, the API's POST) goes through :func:`pipeline_for`."""

    def run(
        self, submissions: Iterable[Submission], progress: PipelineProgress | None = None
    ) -> IngestSummary:
        summary = super().run(submissions, progress)
        from services.metrics import record_ingest

        record_ingest(summary)
        return summary


@contextmanager
def pipeline_for(platform: Platform, workers: int = 0) -> Iterator[IngestPipeline]:
    """The configured pipeline; with ``workers`` admission processes when asked for."""
    with ExitStack() as stack:
        pool = None
        if workers > 0:
            recipe = IntakeRecipe(platform.settings.pepper_bytes(), platform.keys_path)
            pool = stack.enter_context(AdmissionPool(recipe, workers))
        yield _CountedPipeline(
            platform.intake,
            platform.serde,
            platform.log,
            platform.deadletters,
            batch_size=platform.settings.batch_size,
            pool=pool,
        )


def ingest_file(
    platform: Platform, path: Path, fmt: str, mapping_name: str | None, show_progress: bool = True
) -> IngestSummary:
    mapping = load_mapping(mapping_name) if mapping_name else None
    with (
        pipeline_for(platform, _workers(platform, path)) as pipeline,
        path.open(encoding="utf-8", errors="replace", newline="") as stream,
    ):
        lines = _CountingLines(stream)
        submissions = open_submissions(path, fmt, mapping, lines)
        if not (show_progress and sys.stderr.isatty()):
            return pipeline.run(submissions)
        return _with_progress(pipeline, submissions, lines, path)


def _with_progress(
    pipeline: IngestPipeline, submissions: Iterable[Submission], lines: _CountingLines, path: Path
) -> IngestSummary:
    columns = (
        TextColumn("[bold]ingest[/] {task.description}"),
        BarColumn(),
        TextColumn("{task.fields[done]:,} records"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(path.name, total=path.stat().st_size, done=0)

        def tick(summary: IngestSummary, _: Submission) -> None:
            bar.update(task, completed=lines.read, done=summary.submitted)

        return pipeline.run(submissions, progress=tick)
