"""Geometry and nested time: anchors, alignment, a composition's own clock."""

from __future__ import annotations

import numpy as np
import pytest

from tests.core.render.helpers import (
    FPS,
    Box,
    H,
    Rendered,
    W,
    crop,
    frame_at,
    frames_at,
    mean_color,
    render,
)


@pytest.fixture(scope="module")
def geometry(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """Shapes, a composition and a text placed by anchors and alignment (no media files)."""
    template = {
        "width": W, "height": H, "frame_rate": FPS, "duration": 2,
        "elements": [
            {"type": "composition", "time": 0.5, "duration": 1.0, "width": 100, "height": 100,
             "elements": [{"type": "shape", "time": 0.5, "duration": 0.3,
                           "fill_color": "#ff0000"}]},
            {"type": "shape", "x": 0, "y": 0, "x_anchor": "0%", "y_anchor": "0%",
             "width": 50, "height": 50, "fill_color": "#00ff00"},
            {"type": "text", "text": "L", "x": "50%", "y": "85%", "width": 200, "height": 60,
             "x_alignment": "0%", "y_alignment": "100%", "font_size": 30,
             "fill_color": "#ffffff", "background_color": "#0000ff"},
        ],
    }  # fmt: skip
    return render(template, tmp_path_factory.mktemp("geometry"), "geometry")


def test_a_childs_time_counts_from_its_compositions_start(geometry: Rendered) -> None:
    """Composition at 0.5 s, child at 0.5 s into it for 0.3 s: on screen 1.0-1.3 s."""
    centre: Box = (125, 230, 145, 250)
    frames = frames_at(geometry.video, [0.9, 1.1, 1.25, 1.4])
    shown = {t: mean_color(frame, centre) == pytest.approx((255, 0, 0), abs=12)
             for t, frame in frames.items()}  # fmt: skip
    assert shown == {0.9: False, 1.1: True, 1.25: True, 1.4: False}


def test_an_anchor_of_0_percent_places_the_elements_corner_at_x_y(geometry: Rendered) -> None:
    frame = frame_at(geometry.video, 1.0)
    assert mean_color(frame, (0, 0, 50, 50)) == pytest.approx((0, 255, 0), abs=12)
    assert mean_color(frame, (50, 50, 60, 60)) == pytest.approx((0, 0, 0), abs=12)


def test_text_alignment_of_0_and_100_percent_sets_it_left_and_bottom(
    geometry: Rendered,
) -> None:
    box: Box = (35, 378, 235, 438)  # 200x60 at (50%, 85%)
    ink = crop(frame_at(geometry.video, 1.0), box).mean(axis=2) > 200
    rows, columns = np.nonzero(ink)
    assert columns.max() < 30  # the "L" hugs the left edge
    assert rows.max() > 45  # and sits at the bottom
