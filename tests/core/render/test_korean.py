"""Korean text and captions render as Hangul glyphs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.core.render.helpers import FPS, H, W, frames_at, render, write_voice


def test_hangul_text_and_captions_render_as_distinct_glyphs_not_tofu(
    tmp_path: Path,
) -> None:
    """With a font lacking Hangul every syllable is the same box: different words would match."""
    write_voice(tmp_path / "ko.wav", 1.0, [("바다", 0.0, 0.5), ("하늘", 0.5, 1.0)])
    text = {"type": "text", "x": "50%", "width": "80%", "height": "12%", "font_size": 40,
            "fill_color": "#ffffff"}  # fmt: skip
    template = {
        "width": W, "height": H, "frame_rate": FPS, "duration": 1, "fill_color": "#202020",
        "elements": [
            {**text, "text": "가나다라", "y": "20%"},
            {**text, "text": "마바사아", "y": "45%"},
            {"name": "Ko", "type": "audio", "source": "ko.wav"},
            {**text, "y": "75%", "transcript_source": "Ko", "transcript_split": "word"},
        ],
    }  # fmt: skip
    video = render(template, tmp_path, "hangul").video
    frames = frames_at(video, [0.25, 0.75])
    first, second = frames[0.25][67:125, 27:243], frames[0.25][187:245, 27:243]
    sea, sky = frames[0.25][331:389, 27:243], frames[0.75][331:389, 27:243]
    for text in (first, second, sea, sky):
        assert (text.mean(axis=2) > 200).sum() > 150  # glyph pixels are there
    assert np.abs(first.astype(int) - second.astype(int)).mean() > 8
    assert np.abs(sea.astype(int) - sky.astype(int)).mean() > 8
