"""``autoclip render``: a template file (with modifications) → an mp4 and a JSON summary."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.core.render.helpers import (
    BASE,
    BLUE,
    H,
    W,
    changed,
    frames_at,
    mean_color,
    plus,
    write_test_media,
)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_test_media(tmp_path_factory.mktemp("media"))


AUTOCLIP = Path(sys.executable).with_name("autoclip")


def autoclip_render(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AUTOCLIP), "render", *map(str, args)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


def test_cli_renders_a_template_with_modifications_and_prints_a_json_summary(
    media: Path, tmp_path: Path
) -> None:
    template = tmp_path / "templates" / "clip.json"
    template.parent.mkdir()
    template.write_text(json.dumps(BASE), encoding="utf-8")
    modifications = tmp_path / "mods.json"
    modifications.write_text(json.dumps({"Bg": "blue.png"}), encoding="utf-8")
    out, snapshot = tmp_path / "out" / "clip.mp4", tmp_path / "out" / "clip.jpg"
    run = autoclip_render(
        template, "--modifications", modifications, "--media-dir", media, "-o", out,
        "--snapshot", snapshot,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["output"] == str(out)
    assert summary["duration_s"] == 3.0  # the voice's length
    assert summary["size_bytes"] == out.stat().st_size
    assert summary["render_s"] > 0
    frames = frames_at(out, [1.0, 2.5])
    assert mean_color(frames[1.0], (0, 0, 60, 60)) == pytest.approx(BLUE, abs=12)  # modified
    with Image.open(snapshot) as image:
        assert (image.format, image.size) == ("JPEG", (W, H))
        preview = np.asarray(image.convert("RGB")).astype(np.int32)
    # Without snapshot_time the preview is the frame a third of the way in (1 s of 3 s).
    assert np.abs(preview - frames[1.0]).mean() < 3
    assert np.abs(preview - frames[2.5]).mean() > 30


def test_cli_reads_relative_sources_next_to_the_template_by_default(
    media: Path, tmp_path: Path
) -> None:
    template = media / "cli-default.json"
    template.write_text(json.dumps(BASE), encoding="utf-8")
    run = autoclip_render(template, "-o", tmp_path / "out.mp4")
    assert run.returncode == 0, run.stderr


@pytest.mark.parametrize(
    ("template", "modifications", "expected"),
    [
        pytest.param(
            plus({"type": "text", "text": "x", "blur": 3}), None,
            "invalid template: elements[3].blur: not supported", id="unsupported-property",
        ),
        pytest.param(
            BASE, {"Nope": "x"},
            "invalid template: modifications['Nope']: no element named 'Nope'",
            id="modification-of-a-missing-element",
        ),
        pytest.param(
            changed(0, source="nowhere.png"), None,
            "invalid template: elements[0].source: media file not found", id="missing-media",
        ),
    ],
)  # fmt: skip
def test_cli_exits_2_naming_the_json_path_of_a_bad_template(
    template: dict[str, Any],
    modifications: dict[str, Any] | None,
    expected: str,
    media: Path,
    tmp_path: Path,
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(template), encoding="utf-8")
    extra: list[str | Path] = []
    if modifications is not None:
        (tmp_path / "mods.json").write_text(json.dumps(modifications), encoding="utf-8")
        extra = ["--modifications", tmp_path / "mods.json"]
    out = tmp_path / "out.mp4"
    run = autoclip_render(path, *extra, "--media-dir", media, "-o", out)
    assert run.returncode == 2
    assert expected in run.stderr
    assert "Traceback" not in run.stderr
    assert not out.exists()
