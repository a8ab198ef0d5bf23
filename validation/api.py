"""Validate one file: read it, run the engine. The single entry point for the command, the worker and tests."""

from __future__ import annotations

from pathlib import Path

from .dataset import DATASET
from .engine import run_engine
from .model import ProgressCallback, UploadContext, ValidationResult
from .readers import read_file

DEFAULT_MAX_UPLOAD_BYTES = 512 * 1024 * 1024
DEFAULT_MAX_UNZIPPED_BYTES = 2 * 1024 * 1024 * 1024


def validate_file(
    path: str | Path,
    *,
    ctx: UploadContext,
    file_name: str | None = None,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    max_unzipped_bytes: int = DEFAULT_MAX_UNZIPPED_BYTES,
    progress: ProgressCallback | None = None,
    work_dir: Path | None = None,
) -> ValidationResult:
    if progress:
        progress("reading", None, 0.0)
    read = read_file(
        path,
        file_name=file_name or ctx.file_name or Path(path).name,
        max_upload_bytes=max_upload_bytes,
        max_unzipped_bytes=max_unzipped_bytes,
        dataset=DATASET,
        work_dir=work_dir,
    )
    if progress:
        progress("reading", None, 1.0)
    # The ReadResult is not used after this: the engine may drop each raw table once it is prepared.
    return run_engine(read, ctx, progress=progress, release_raw=True)
