"""The warm worker's protocol (see :mod:`mlpdesigner.worker`): its ready event and its job line.

Apart from the worker itself so that the designer can speak it without
importing what the worker imports (TensorFlow, Keras).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

#: The event a worker prints when it is warm.
READY_EVENT = "worker_ready"


def parse_job(line: str) -> tuple[list[str], str | None]:
    """The CLI arguments and working folder of a job line; ValueError saying what was expected."""
    try:
        job: Any = json.loads(line)
    except ValueError as exc:
        raise ValueError(f"the job line is not JSON ({exc}). Expected {{\"argv\": [...], \"cwd\": ...}}") from None
    argv = job.get("argv") if isinstance(job, dict) else None
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise ValueError(f"Expected the job's \"argv\" to be a non-empty list of strings. Received: {argv!r}")
    cwd = job.get("cwd")
    if cwd is not None and not isinstance(cwd, str):
        raise ValueError(f"Expected the job's \"cwd\" to be a folder name or null. Received: {cwd!r}")
    return argv, cwd


def job_line(argv: Sequence[str], cwd: str | os.PathLike[str] | None) -> bytes:
    """The line that hands a job to a warm worker."""
    return (json.dumps({"argv": list(argv), "cwd": None if cwd is None else os.fspath(cwd)}) + "\n").encode("utf-8")
