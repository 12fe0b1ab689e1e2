"""The Ken Burns zoom at sub-pixel precision on swscale's fast scaler.

A zoom by ``z`` about the centre of a ``box``-pixel axis shows, at output pixel ``x``, the
source at ``c + (x - c) / z``. ffmpeg's fast resamplers (swscale behind ``scale``) only map
whole pixel ranges onto whole pixel ranges, and ``zoompan`` or ``scale`` + ``crop`` round
the window to a pixel, so the picture steps by up to a pixel between frames. ``perspective``
resamples at 1/256 px but costs ~25 ms a 1080x1920 frame, most of a render's CPU.

Here each frame goes through ``crop`` → ``scale`` → ``crop`` with integers picked so that
the *composition* lands within ``TOLERANCE_PX`` of the ideal window: cropping ``length``
source pixels from ``offset``, scaling them to ``scaled`` pixels and keeping ``box`` pixels
from ``shift`` maps output ``x`` to ``offset + (x + shift + 0.5) * length / scaled - 0.5``.
Ratios of integers are dense enough once the source has room around the visible window, so
the source is drawn ``BASE_SHRINK`` smaller than the box (every frame then scales up by at
least that much) and padded by ``MARGIN`` edge pixels (never visible: the window stays
inside the box). The first crop's size changes through ``sendcmd``; everything else is
an expression of the frame's time. Measured on a 1080x1920 marker zoomed 100→112 % over 180
frames: 0.06 px worst and 0.011 px RMS off the ideal path (``perspective``: 0.016 / 0.005
px) for ~2.4 ms a frame (``perspective``: ~22 ms).
Near zooms that are ratios of small integers in source pixels (3/2, 4/3, ...) fewer windows
exist and a frame can be off by up to ~0.15 px at the box edges.
The source is 4:4:4 so the first crop can start at any pixel; the scale writes 4:2:0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

MARGIN = 128
"""Edge pixels padded around the source on every side: room for the crop window."""
BASE_SHRINK = 1.02
"""The source is drawn this much smaller than the box, so every frame scales up."""
TOLERANCE_PX = 0.02
"""Wanted worst distance from the ideal window at the box edges, in output pixels."""
PLAN_CHUNK = 64
"""How many ``scaled`` sizes the search tries at a time."""


@dataclass(frozen=True)
class AxisWindow:
    """One frame's integers along one axis, and how far they land from the ideal window."""

    offset: int
    length: int
    scaled: int
    shift: int
    error_px: float


def source_length(box: int) -> int:
    """The drawn source's size along an axis of ``box`` pixels (without the margins)."""
    return max(round(box / BASE_SHRINK), 1)


def padded_length(box: int) -> int:
    return source_length(box) + 2 * MARGIN


def swscale_ratio(length: int | np.ndarray, scaled: int | np.ndarray) -> float | np.ndarray:
    """Source pixels per output pixel as swscale steps them: 16.16 fixed point, rounded
    (integers, or integer arrays element by element)."""
    return (((length << 16) + (scaled >> 1)) // scaled) / 65536


def plan_axis(box: int, zoom: float) -> AxisWindow:
    """The cheapest window (smallest ``scaled``) within ``TOLERANCE_PX``, else the closest."""
    return plan_axes(box, [zoom])[0]


_PLANNED: dict[tuple[int, float], AxisWindow] = {}
"""Windows already planned, by box and zoom: a render's scenes often share both."""
PLANNED_KEPT = 65536


def plan_axes(box: int, zooms: Sequence[float]) -> list[AxisWindow]:
    """``plan_axis`` for every zoom in ``zooms``, the ones not planned before all at once.
    The answer never reads the shared cache twice, so renders on other threads may clear it."""
    known = {z: window for z in zooms if (window := _PLANNED.get((box, z))) is not None}
    missing = sorted(set(zooms) - known.keys())
    if missing:
        found = dict(zip(missing, _search(box, np.array(missing)), strict=True))
        known.update(found)
        if len(_PLANNED) + len(found) > PLANNED_KEPT:
            _PLANNED.clear()
        _PLANNED.update(((box, zoom), window) for zoom, window in found.items())
    return [known[zoom] for zoom in zooms]


@dataclass(frozen=True)
class _AxisSearch:
    """What ``_search`` knows of one axis and its zooms (arrays: one entry per zoom)."""

    box: int
    full: int
    z: np.ndarray
    """The zooms measured in source pixels."""
    first: np.ndarray
    """The wanted source x of output pixel 0."""
    largest: np.ndarray
    """The biggest ``scaled`` worth trying."""


def _search(box: int, zooms: np.ndarray) -> list[AxisWindow]:
    """Each zoom's window, searched for all the zooms at once.

    Candidates are the even ``scaled`` sizes and the ``length``s whose ratio is close to
    ``1 / zoom``; for each, every even ``shift`` is tried and the ``offset`` that centres
    the window is rounded. The error is the worse of the two box edges (it is linear in
    between). The smallest sizes go first, a chunk at a time, and a zoom leaves the search
    once it has a window within ``TOLERANCE_PX``: most find theirs in the first chunk. Near
    ratios of small integers no ratio may be close enough: the search then widens what it
    calls close. ``scaled`` and ``shift`` are even because the scale step writes 4:2:0,
    whose chroma only splits at even pixels.
    """
    source = source_length(box)
    full = source + 2 * MARGIN
    z = zooms * box / source
    first = MARGIN + (source - 1) / 2 - (box - 1) / 2 / z
    axis = _AxisSearch(box, full, z, first, np.ceil(full * z).astype(int))
    all_scaled = np.arange(box + box % 2, axis.largest.max() + 1, 2)
    best = np.zeros((len(z), 4), int)  # offset, length, scaled, shift
    best[:] = (MARGIN, source, source, 0)
    best_error = np.full(len(z), math.inf)
    for widen in (1, 4, 16, 64):
        slack = 2 * widen * TOLERANCE_PX / max(box - 1, 1)
        for start in range(0, len(all_scaled), PLAN_CHUNK):
            active = np.flatnonzero(best_error > TOLERANCE_PX)
            if not len(active):
                break
            scaled = all_scaled[start : start + PLAN_CHUNK]
            which, windows, errors = _better_in(axis, active, scaled, slack, best_error[active])
            best[active[which]] = windows
            best_error[active[which]] = errors
    return [
        AxisWindow(*(int(v) for v in window), float(error))
        for window, error in zip(best, best_error, strict=True)
    ]


def _better_in(
    axis: _AxisSearch, active: np.ndarray, scaled: np.ndarray, slack: float, beat: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``_search`` over some ``scaled`` sizes for the zooms ``active``: for each zoom with a
    length close enough, its first (smallest) window within ``TOLERANCE_PX``, else its
    closest, where that is closer than ``beat``. Returns those zooms (as indices into
    ``active``), their windows (offset, length, scaled, shift) and errors."""
    box, full = axis.box, axis.full
    z, first = axis.z[active, None], axis.first[active, None]
    low = np.maximum(np.ceil(scaled * (1 / z - slack)), 1).astype(int)
    high = np.minimum(np.floor(scaled * (1 / z + slack)), full).astype(int)
    counts = np.maximum(high - low + 1, 0) * (scaled <= axis.largest[active, None])
    # one row per (zoom, scaled, length) candidate, in that order
    counts = counts.ravel()
    zoom_of = np.repeat(np.repeat(np.arange(len(active)), len(scaled)), counts)
    sizes = np.repeat(np.tile(scaled, len(active)), counts)
    lengths = (
        np.repeat(low.ravel(), counts)
        + np.arange(counts.sum())
        - np.repeat(np.cumsum(counts) - counts, counts)
    )
    ratio = swscale_ratio(lengths, sizes)
    # The edges' errors differ by ``spread`` whatever the shift, so a row is off by at least
    # half of it: rows that cannot beat ``beat`` are not tried.
    row_z, row_first = z[zoom_of, 0], first[zoom_of, 0]
    spread = (box - 1) * (ratio - 1 / row_z)
    keep = np.abs(spread) / 2 * row_z * (1 - 1e-9) < beat[zoom_of]
    zoom_of, sizes, lengths = zoom_of[keep], sizes[keep], lengths[keep]
    ratio, spread = ratio[keep, None], spread[keep, None]
    row_z, row_first = row_z[keep, None], row_first[keep, None]
    shift = np.arange(0, scaled[-1] - box + 1, 2)  # the shifts these sizes have room for
    offset = np.rint(row_first + 0.5 - (shift + 0.5) * ratio).clip(0, (full - lengths)[:, None])
    at_first = offset + (shift + 0.5) * ratio - 0.5 - row_first
    at_last = at_first + spread
    error = np.maximum(np.abs(at_first), np.abs(at_last)) * row_z  # a source px is z output px
    error[shift[None, :] > (sizes - box)[:, None]] = np.inf
    row_best = error.min(axis=1)
    rows = np.arange(len(row_best))
    chosen = np.full(len(active), -1)
    # each zoom's closest row (the first of equals) ...
    order = np.lexsort((rows, row_best, zoom_of))
    zooms, firsts = np.unique(zoom_of[order], return_index=True)
    chosen[zooms] = order[firsts]
    # ... unless one is within tolerance: then its first such row
    within = rows[row_best <= TOLERANCE_PX]
    zooms, firsts = np.unique(zoom_of[within], return_index=True)
    chosen[zooms] = within[firsts]
    which = np.flatnonzero(chosen >= 0)
    row = chosen[which]
    col = np.argmin(error[row], axis=1)
    errors = error[row, col]
    better = errors < beat[which]
    which, row, col = which[better], row[better], col[better]
    windows = np.stack([offset[row, col].astype(int), lengths[row], sizes[row], shift[col]], axis=1)
    return which, windows, errors[better]


@dataclass(frozen=True)
class Zoom:
    """The per-frame zoom of a ``width`` x ``height`` box as a filter chain and its commands.

    ``name`` keeps the chain's filter instances apart from other zooms in the same graph.
    """

    name: str
    width: int
    height: int
    zooms: tuple[float, ...]

    @property
    def source_size(self) -> tuple[int, int]:
        """The padded source the chain expects: draw at ``source_length`` + margins."""
        return padded_length(self.width), padded_length(self.height)

    @cached_property
    def windows(self) -> list[tuple[AxisWindow, AxisWindow]]:
        """Each frame's window along x and y."""
        zooms = [round(zoom, 9) for zoom in self.zooms]  # equal zooms are planned once
        return list(zip(plan_axes(self.width, zooms), plan_axes(self.height, zooms), strict=True))

    def filters(self, commands_file: str | None, fps: float) -> str:
        """``crop`` → ``scale`` → ``crop`` following the planned windows frame by frame.

        Only the first crop's size cannot be an expression: ``sendcmd`` (reading
        ``commands_file``, None when the windows never change) sets it right before the
        frame reaches that crop. Downstream, each filter reads its numbers off the frame's
        own time (``t``), so a frame queued between filters never meets the next frame's
        numbers. Followed by a 4:2:0 format, the scale step writes 4:2:0 directly: one
        swscale pass, where a separate 4:4:4 → 4:2:0 conversion costs ~2.9 ms a 1080x1920
        frame. The scale runs on one thread: its size changes every frame, and a threaded
        scaler sets up a context per thread each time (measured 3.8 → 2.3-3.0 CPU-s per 900
        frames; x264 keeps the other cores busy). Each change of size costs ~6 M instructions
        (callgrind, 1080x1920): a new swscale context and a new frame pool for the scale's
        output, whose buffers ffmpeg zeroes. A 4:2:0 source would scale ~23% cheaper, but
        exact chroma then needs even offsets and lengths: measured on the bench's zoom, the
        scaled area grows 1.113 → 1.194 of the box and 54 of 190 frames miss 0.02 px (17).
        """
        windows = self.windows
        x, y = windows[0]

        def per_frame(pick: Callable[[tuple[AxisWindow, AxisWindow]], int]) -> str:
            return stepwise([pick(w) for w in windows], fps)

        return (
            (f"sendcmd=f={commands_file}," if commands_file else "")
            + f"crop@{self.name}=w={x.length}:h={y.length}:x={x.offset}:y={y.offset}:exact=1,"
            f"scale=w='{per_frame(lambda w: w[0].scaled)}':"
            f"h='{per_frame(lambda w: w[1].scaled)}':eval=frame:flags=bilinear:threads=1,"
            f"crop=w={self.width}:h={self.height}:x='{per_frame(lambda w: w[0].shift)}':"
            f"y='{per_frame(lambda w: w[1].shift)}':exact=1,setsar=1"
        )

    def commands(self, fps: float) -> str:
        """A ``sendcmd`` script for the first crop, sent half a frame before each change."""
        lines = []
        previous = self.windows[0]
        crop = f"crop@{self.name}"
        for frame, current in enumerate(self.windows[1:], start=1):
            if current == previous:
                continue
            previous = current
            x, y = current
            lines.append(
                f"{(frame - 0.5) / fps:.6f} {crop} w {x.length}, {crop} h {y.length}, "
                f"{crop} x {x.offset}, {crop} y {y.offset};"
            )
        return "".join(f"{line}\n" for line in lines)


def stepwise(values: list[int], fps: float, first: int = 0) -> str:
    """An ffmpeg expression of the frame time ``t`` giving ``values[frame - first]``.

    A balanced tree of ``if(lt(t,…),…,…)`` over the frames where the value changes, split
    half a frame early (filters count frames differently: ``scale``'s ``n`` starts at 1,
    ``crop``'s at 0; the time of frame ``k`` is ``k / fps`` for both). The last value
    holds after the end; each frame costs a few comparisons.
    """
    starts = [i for i in range(len(values)) if i == 0 or values[i] != values[i - 1]]
    if len(starts) == 1:
        return str(values[0])
    split = starts[len(starts) // 2]
    left = stepwise(values[:split], fps, first)
    right = stepwise(values[split:], fps, first + split)
    return f"if(lt(t,{(first + split - 0.5) / fps:.6f}),{left},{right})"


def pad_edges(plane: np.ndarray) -> np.ndarray:
    """A plane with ``MARGIN`` copies of its edge pixels around it."""
    return np.pad(plane, MARGIN, mode="edge")
