"""Fonts: NanumGothic for Hangul and Latin (shipped by the koreanize-matplotlib wheel), and
the font file of a template's ``font_family`` among it and the system's fonts."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

from PIL import ImageFont

from autoclip_core.render.renderscript import TemplateError, TextElement

FAMILY = "NanumGothic"
SYSTEM_FONT_DIRS = (Path("/usr/share/fonts"), Path.home() / ".local/share/fonts")


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


@cache
def _font_index() -> dict[tuple[str, str], Path]:
    folders = [fonts_dir(), *SYSTEM_FONT_DIRS]
    index: dict[tuple[str, str], Path] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() not in {".ttf", ".otf"}:
                continue
            try:
                family, style = ImageFont.truetype(str(path), size=10).getname()
            except OSError:
                continue
            index.setdefault((family or "", style or ""), path)
    return index


def is_bold(element: TextElement) -> bool:
    return str(element.font_weight) in ("700", "bold")


def font_file(family: str, bold: bool, where: str) -> Path:
    """The font file of ``family`` (bold when asked and available); TemplateError if none."""
    index = _font_index()
    styles = ("Bold", "ExtraBold", "Regular") if bold else ("Regular", "Book", "Medium")
    for style in styles:
        if (family, style) in index:
            return index[(family, style)]
    known = sorted({name for name, _ in index})
    raise TemplateError(f"{where}.font_family", f"unknown font {family!r}; installed: {known}")
