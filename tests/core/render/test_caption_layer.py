"""The caption layer: libass draws a track only where it changes, the graph overlays the band.

What a viewer sees must not depend on that shortcut: every frame shows what libass draws
straight onto the video at that frame's time, and nothing a track draws falls outside the
band the layer overlays.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autoclip_core.render.captions import CaptionTrack, build_band_ass, build_captions_ass
from autoclip_core.render.engine import caption_tracks
from autoclip_core.render.ffmpeg_binary import run_ffmpeg
from autoclip_core.render.fonts import fonts_dir
from autoclip_core.render.media_sources import MediaResolver
from autoclip_core.render.renderscript import parse_render_script
from autoclip_core.render.timeline import Placed, resolve_timeline
from autoclip_core.render.video_graph import CaptionLayer, GraphBuilder
from autoclip_core.render.zoom import stepwise
from tests.core.render.helpers import write_voice

W, H, FPS = 270, 480, 30
SECONDS = 3
FRAMES = SECONDS * FPS
BACKGROUND = "#336699"
WORDS = [  # cue edges on frame times (0.5 s, 1.3 s) and between them (0.72 s, 2.05 s)
    ("Every", 0.5, 0.72), ("city", 0.72, 1.0), ("has", 1.0, 1.3), ("a", 1.3, 1.45),
    ("secret", 1.45, 1.7), ("hour", 1.7, 2.05), ("도시의", 2.05, 2.4), ("비밀", 2.4, 2.8),
]  # fmt: skip


@pytest.fixture(scope="module")
def voice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("voice")
    write_voice(folder / "voice.wav", SECONDS, WORDS)
    return folder


SCENES = [  # three full-frame scenes cross-fading for 0.33 s (9.9 frames) at 0.87 s and 1.74 s
    {"type": "composition", "track": 1, "duration": 1.2, "fill_color": colour,
     **({"animations": [{"type": "fade", "duration": 0.33, "transition": True}]} if n else {})}
    for n, colour in enumerate(["#336699", "#993366", "#669933"])
]  # fmt: skip


def placed_track(
    folder: Path, scenes: list[dict[str, Any]], **captions: Any
) -> tuple[list[Placed], CaptionTrack]:
    template = {
        "width": W, "height": H, "frame_rate": FPS, "duration": SECONDS,
        "elements": [
            *scenes,
            {"name": "Voice", "type": "audio", "source": "voice.wav"},
            {"type": "text", "transcript_source": "Voice", "y": "70%", "width": "90%",
             "height": "20%", "stroke_color": "#000000", "stroke_width": 4, **captions},
        ],
    }  # fmt: skip
    resolver = MediaResolver(folder, folder / "downloads")
    placed, _ = resolve_timeline(parse_render_script(template), resolver)
    (found,) = caption_tracks(placed, (W, H))
    return placed, found


def track(folder: Path, **captions: Any) -> CaptionTrack:
    return placed_track(folder, [], **captions)[1]


def raw_frames(graph: str, workdir: Path, pix_fmt: str = "yuv420p") -> np.ndarray:
    """Run a source-only filter graph ending in ``[vout]``; its frames as one array."""
    (workdir / "graph.txt").write_text(graph, encoding="utf-8")
    out = workdir / "frames.raw"
    run_ffmpeg(
        ["-y", "-loglevel", "error", "-/filter_complex", "graph.txt", "-map", "[vout]",
         "-f", "rawvideo", "-pix_fmt", pix_fmt, str(out)],
        cwd=workdir, timeout_s=120,
    )  # fmt: skip
    channels = 4 if pix_fmt == "rgba" else 1.5
    frame = int(W * H * channels)
    data = np.frombuffer(out.read_bytes(), np.uint8)
    assert len(data) == FRAMES * frame
    return data.reshape(FRAMES, frame)


def workdir_for(captioned: CaptionTrack, folder: Path) -> Path:
    folder.mkdir()
    (folder / "fonts").symlink_to(fonts_dir(), target_is_directory=True)
    (folder / "track.ass").write_text(build_captions_ass([captioned], (W, H)), "utf-8")
    (folder / "band.ass").write_text(build_band_ass(captioned), "utf-8")
    return folder


@pytest.mark.parametrize(
    "captions",
    [
        pytest.param({"transcript_effect": "highlight"}, id="highlight"),
        pytest.param({"transcript_split": "word"}, id="word"),
        pytest.param({"transcript_effect": "karaoke"}, id="karaoke"),
        pytest.param({"transcript_effect": "fade"}, id="fade"),
    ],
)
def test_every_frame_shows_what_libass_draws_at_that_frames_time(
    captions: dict[str, Any], voice: Path, tmp_path: Path
) -> None:
    captioned = track(voice, **captions)
    workdir = workdir_for(captioned, tmp_path / "work")
    top, height = captioned.band()
    builder = GraphBuilder(W, H, FPS, BACKGROUND, workdir)
    base = builder.canvas(W, H, FRAMES, BACKGROUND, opaque=True)
    layer = CaptionLayer("band.ass", top, height, captioned.state_frames(FPS))
    builder.chains.append(f"[{builder.captions(base, layer, FRAMES)}]null[vout]")
    ours = raw_frames(";\n".join(builder.chains), workdir)
    # libass on every frame, at the frame's exact time in whole milliseconds
    reference = raw_frames(
        f"color=c={BACKGROUND.replace('#', '0x')}:s={W}x{H}:r={FPS},format=yuv420p,"
        f"trim=end_frame={FRAMES},settb=1/1000,setpts='floor(N*1000/{FPS})',"
        f"ass=filename=track.ass:fontsdir=fonts[vout]",
        workdir,
    )
    assert (reference != reference[0]).any(axis=1).sum() > FRAMES // 3  # captions do show
    luma, chroma = W * H, slice(W * H, None)
    off = np.abs(ours[:, :luma].astype(int) - reference[:, :luma].astype(int)).max(axis=1)
    if captions.get("transcript_effect") == "fade":  # translucent while a word fades in
        fading = {
            round((start + s) * FPS) for _, start, _ in WORDS for s in np.arange(0, 0.2, 0.01)
        }
        off[sorted(fading)] = 0
    assert off.max() <= 2, f"luma differs at frames {np.flatnonzero(off > 2).tolist()}"
    assert np.abs(ours[:, chroma].astype(int) - reference[:, chroma].astype(int)).max() <= 24
    # and libass drew far fewer frames than the video has, unless the effect animates
    drawn = len([f for f in layer.frames if f < FRAMES])
    if captions.get("transcript_effect") not in ("karaoke", "fade"):
        assert drawn < FRAMES // 2


@pytest.mark.parametrize(
    "captions",
    [
        pytest.param({"width": "40%"}, id="wrapped-to-three-lines"),
        pytest.param({"y": "3%", "y_alignment": "0%"}, id="top-aligned-at-the-edge"),
        pytest.param({"y": "97%", "y_alignment": "100%", "stroke_width": 12},
                     id="bottom-aligned-thick-stroke"),
        pytest.param({"background_color": "#000000aa", "font_size": 30}, id="boxed"),
    ],
)  # fmt: skip
def test_nothing_a_caption_track_draws_falls_outside_its_band(
    captions: dict[str, Any], voice: Path, tmp_path: Path
) -> None:
    captioned = track(voice, transcript_effect="highlight", **captions)
    workdir = workdir_for(captioned, tmp_path / "work")
    top, height = captioned.band()
    assert top % 2 == 0
    assert height % 2 == 0
    assert 0 <= top < top + height <= H
    drawn = raw_frames(
        f"color=c=black@0:s={W}x{H}:r={FPS},format=rgba,trim=end_frame={FRAMES},"
        f"settb=1/1000,setpts='floor(N*1000/{FPS})',"
        f"ass=filename=track.ass:fontsdir=fonts:alpha=1[vout]",
        workdir,
        "rgba",
    )
    alpha = drawn.reshape(FRAMES, H, W, 4)[..., 3]
    rows = np.flatnonzero(alpha.max(axis=(0, 2)))
    assert len(rows), "the track drew nothing"
    assert top <= rows[0], (rows[0], top)
    assert rows[-1] < top + height, (rows[-1], top + height)


def test_state_frames_are_the_frames_where_a_cue_starts_or_ends(voice: Path) -> None:
    """Cue edges at 0.5 s (frame 15 exactly) and 0.72 s (between frames 21 and 22)."""
    frames = track(voice, transcript_split="word").state_frames(FPS)
    assert {0, 15, 22} <= set(frames)
    assert not {14, 16, 18, 21, 23} & set(frames)


def test_captions_over_cross_faded_scenes_change_on_their_own_frames(
    voice: Path, tmp_path: Path
) -> None:
    """Frame times after ``concat`` and ``xfade`` run a hair early: each band must still be
    paired with the frame it was drawn for (compared with libass on every frame)."""
    placed, captioned = placed_track(voice, SCENES, transcript_effect="highlight")
    workdir = workdir_for(captioned, tmp_path / "work")
    top, height = captioned.band()
    builder = GraphBuilder(W, H, FPS, BACKGROUND, workdir)
    base, _ = builder.backdrop(placed, FRAMES)
    layer = CaptionLayer("band.ass", top, height, captioned.state_frames(FPS))
    builder.chains.append(f"[{builder.captions(base, layer, FRAMES)}]null[vout]")
    ours = raw_frames(";\n".join(builder.chains), workdir)
    builder = GraphBuilder(W, H, FPS, BACKGROUND, workdir)
    base, _ = builder.backdrop(placed, FRAMES)
    builder.chains.append(
        f"[{base}]settb=1/1000,setpts='floor(N*1000/{FPS})',"
        f"ass=filename=track.ass:fontsdir=fonts[vout]"
    )
    reference = raw_frames(";\n".join(builder.chains), workdir)
    luma = W * H
    off = np.abs(ours[:, :luma].astype(int) - reference[:, :luma].astype(int)).max(axis=1)
    assert off.max() <= 2, f"luma differs at frames {np.flatnonzero(off > 2).tolist()}"
    assert len(set(map(bytes, reference[:, :luma]))) >= 15  # the scenes and captions do change


def test_the_frames_to_draw_are_picked_by_an_expression_ffmpeg_accepts_at_any_length(
    tmp_path: Path,
) -> None:
    """ffmpeg's parser gives up on ~100 chained terms; a 2-hour video has thousands of cues."""
    frames = list(range(0, 3 * 2000, 3))  # every third frame: 2000 runs
    graph = (
        f"color=s=16x16:r={FPS},trim=end_frame={frames[-1] + 2},"
        f"select='{stepwise([int(n % 3 == 0) for n in range(frames[-1] + 2)], FPS)}'[vout]"
    )
    (tmp_path / "graph.txt").write_text(graph, encoding="utf-8")
    run_ffmpeg(
        ["-/filter_complex", "graph.txt", "-map", "[vout]", "-f", "framecrc", "crc.txt"],
        cwd=tmp_path, timeout_s=120,
    )  # fmt: skip
    lines = (tmp_path / "crc.txt").read_text(encoding="utf-8").splitlines()
    assert sum(1 for line in lines if line.startswith("0,")) == len(frames)
