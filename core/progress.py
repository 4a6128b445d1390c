"""Progress of long work on stderr: a bar with images/s and time left on a terminal, plain
lines every few seconds otherwise (none for work done within the first few seconds, so a quick
run's stderr holds only what matters: warnings, or the one error line). The app's bar shows the same text (progress_text)."""
from __future__ import annotations

import sys
import time
from typing import TextIO


def time_left(done: int, total: int, rate: float) -> str:
    """'12 s left', '3 min left', or '' when the rate is not known yet."""
    if rate <= 0 or done >= total:
        return ""
    seconds = (total - done) / rate
    return f"{seconds:.0f} s left" if seconds < 90 else f"{seconds / 60:.0f} min left"


def progress_text(done: int, total: int, rate: float, what: str = "images") -> str:
    """'312/1,000 images, 45 images/s, 15 s left' (the same words on every surface)."""
    parts = [f"{done:,}/{total:,} {what}"]
    if rate > 0:
        parts.append(f"{rate:,.1f} {what}/s" if rate < 10 else f"{rate:,.0f} {what}/s")
    left = time_left(done, total, rate)
    if left:
        parts.append(left)
    return ", ".join(parts)


class ProgressBar:
    """A Progress callback (done, total, rate) writing to stream (stderr by default)."""

    def __init__(self, label: str = "Inference", stream: TextIO | None = None, every_s: float = 5.0,
                 width: int = 28) -> None:
        self.label, self.stream, self.every_s, self.width = label, stream or sys.stderr, every_s, width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last = time.monotonic()  # the first plain line after every_s: quick runs print none
        self._printed = False

    def __call__(self, done: int, total: int, rate: float) -> None:
        text = progress_text(done, total, rate)
        finished = done >= total
        if self.tty:
            filled = int(self.width * done / max(total, 1))
            bar = "#" * filled + "-" * (self.width - filled)
            self.stream.write(f"\r{self.label} [{bar}] {text}\033[K" + ("\n" if finished else ""))
            self.stream.flush()
            return
        now = time.monotonic()
        if (finished and self._printed) or (not finished and now - self._last >= self.every_s):
            self._last, self._printed = now, True
            self.stream.write(f"{self.label}: {text}\n")
            self.stream.flush()
