"""Fonts that render Hangul and Latin: NanumGothic (shipped by the koreanize-matplotlib wheel)."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

FAMILY = "NanumGothic"


class FontNotFoundError(RuntimeError):
    pass


@cache
def fonts_dir() -> Path:
    """Directory holding NanumGothic*.ttf (pip wheel first, then Debian's fonts-nanum)."""
    candidates: list[Path] = []
    # Importing koreanize_matplotlib needs matplotlib; we only want its font files.
    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is not None and spec.origin:
        candidates.append(Path(spec.origin).parent / "fonts")
    candidates.append(Path("/usr/share/fonts/truetype/nanum"))
    for folder in candidates:
        if (folder / "NanumGothic.ttf").is_file():
            return folder
    raise FontNotFoundError(
        "NanumGothic not found: pip install --no-deps koreanize-matplotlib "
        "(or apt install fonts-nanum)"
    )


def font_path(bold: bool = False) -> Path:
    folder = fonts_dir()
    path = folder / ("NanumGothicBold.ttf" if bold else "NanumGothic.ttf")
    return path if path.is_file() else folder / "NanumGothic.ttf"
