"""Run the ffmpeg binary shipped by imageio-ffmpeg, with progress and clear errors.

ffmpeg reports progress as ``key=value`` lines on stdout (``-progress pipe:1``); we turn
``out_time_us`` into a fraction of the expected duration. stderr is drained on a thread
and its tail kept for error messages (and for filters that print results there, such as
``ebur128``).
"""

from __future__ import annotations

import subprocess
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import imageio_ffmpeg

ProgressCallback = Callable[[float], None]
"""Called with the fraction done (0..1)."""

STDERR_TAIL_LINES = 200
ERROR_TAIL_LINES = 15


class FFmpegError(RuntimeError):
    """ffmpeg failed or timed out; the message ends with the last lines it printed."""

    def __init__(self, message: str, stderr_tail: Sequence[str] = ()) -> None:
        self.stderr_tail = list(stderr_tail)
        details = "\n".join(self.stderr_tail[-ERROR_TAIL_LINES:])
        super().__init__(f"{message}\n{details}" if details else message)


@dataclass(frozen=True)
class FFmpegRun:
    command: list[str]
    stderr_tail: list[str]


@cache
def ffmpeg_exe() -> str:
    """Path of the static ffmpeg binary bundled with imageio-ffmpeg."""
    return imageio_ffmpeg.get_ffmpeg_exe()


class _ProgressReporter:
    """Turns ffmpeg ``-progress`` lines into strictly increasing fractions."""

    def __init__(self, callback: ProgressCallback | None, duration_s: float | None) -> None:
        self._callback = callback
        self._duration_us = (duration_s or 0.0) * 1_000_000
        self._last = 0.0

    def feed(self, line: str) -> None:
        key, _, value = line.strip().partition("=")
        if key == "progress" and value == "end":
            self._report(1.0)
        elif key == "out_time_us" and self._duration_us > 0 and value.lstrip("-").isdigit():
            self._report(min(int(value) / self._duration_us, 1.0))

    def _report(self, fraction: float) -> None:
        if self._callback is not None and fraction > self._last:
            self._last = fraction
            self._callback(fraction)


def _drain(stream: Iterable[str], sink: deque[str]) -> None:
    for line in stream:
        sink.append(line.rstrip())


def run_ffmpeg(
    args: Sequence[str],
    *,
    duration_s: float | None = None,
    progress: ProgressCallback | None = None,
    timeout_s: float = 600.0,
    cwd: Path | None = None,
) -> FFmpegRun:
    """Run ``ffmpeg <args>`` in ``cwd``; report progress against ``duration_s`` seconds of output.

    Raises FFmpegError (with ffmpeg's last stderr lines) on a non-zero exit or when the
    run takes longer than ``timeout_s``; the process is killed in that case.
    """
    command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-progress", "pipe:1", "-nostats", *args]
    reporter = _ProgressReporter(progress, duration_s)
    stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
    process = subprocess.Popen(
        command,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    assert process.stdout is not None
    assert process.stderr is not None
    stderr_thread = threading.Thread(target=_drain, args=(process.stderr, stderr_tail), daemon=True)
    stderr_thread.start()
    timed_out = threading.Event()
    watchdog = threading.Timer(timeout_s, _kill_on_timeout, args=(process, timed_out))
    watchdog.start()
    try:
        for line in process.stdout:
            reporter.feed(line)
        returncode = process.wait()
    finally:
        watchdog.cancel()
        if process.poll() is None:  # the progress callback raised: do not leave ffmpeg running
            process.kill()
            process.wait()
        stderr_thread.join()
    if timed_out.is_set():
        raise FFmpegError(f"ffmpeg timed out after {timeout_s:g} s", stderr_tail)
    if returncode != 0:
        raise FFmpegError(f"ffmpeg exited with status {returncode}", stderr_tail)
    return FFmpegRun(command=command, stderr_tail=list(stderr_tail))


def _kill_on_timeout(process: subprocess.Popen[str], timed_out: threading.Event) -> None:
    timed_out.set()
    process.kill()
