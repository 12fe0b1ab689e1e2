"""Media sources → checked local files: paths (relative to the media dir) or guarded URLs."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from PIL import Image, UnidentifiedImageError

from autoclip_core.render.probe import CorruptMediaError, MediaProbe, probe
from autoclip_core.render.renderscript import TemplateError

MAX_MEDIA_BYTES = 500 * 1024 * 1024
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif"}


@dataclass(frozen=True)
class ImageInfo:
    width: int
    height: int
    has_alpha: bool


class MediaResolver:
    """Finds, downloads (through the SSRF-guarded fetcher) and checks media, once each."""

    def __init__(self, media_dir: Path, download_dir: Path, *, timeout_s: float = 60.0) -> None:
        self.media_dir = media_dir
        self.download_dir = download_dir
        self.timeout_s = timeout_s
        self._paths: dict[str, Path] = {}
        self._probes: dict[Path, MediaProbe] = {}
        self._images: dict[Path, ImageInfo] = {}

    def path(self, source: str, where: str) -> Path:
        if source not in self._paths:
            self._paths[source] = self._locate(source, where)
        return self._paths[source]

    def _locate(self, source: str, where: str) -> Path:
        scheme = urlsplit(source).scheme.lower()
        if scheme in ("http", "https"):
            return self._download(source, where)
        if scheme and len(scheme) > 1:
            raise TemplateError(
                where, f"unsupported source scheme {scheme!r}: use a path or http(s)"
            )
        path = Path(source).expanduser()
        if not path.is_absolute():
            path = self.media_dir / path
        if not path.is_file():
            raise TemplateError(where, f"media file not found: {path}")
        return path.resolve()

    def _download(self, url: str, where: str) -> Path:
        name = hashlib.sha256(url.encode()).hexdigest()[:24] + Path(urlsplit(url).path).suffix
        target = self.download_dir / name
        if not target.is_file():
            # Imported here: httpx (which loads its CLI's rich and click) adds ~0.2 s to the
            # start of every ``autoclip render``, and most renders read local files only.
            from autoclip_core.fetch import FetchError, fetch

            try:
                result = fetch(url, max_bytes=MAX_MEDIA_BYTES, timeout_s=self.timeout_s)
            except FetchError as exc:
                raise TemplateError(where, f"cannot fetch {url}: {exc}") from None
            self.download_dir.mkdir(parents=True, exist_ok=True)
            target.write_bytes(result.body)
        return target

    def probe(self, path: Path, where: str) -> MediaProbe:
        if path not in self._probes:
            try:
                self._probes[path] = probe(path)
            except CorruptMediaError as exc:
                raise TemplateError(where, f"unusable media: {exc}") from None
        return self._probes[path]

    def image(self, path: Path, where: str) -> ImageInfo:
        if path not in self._images:
            try:
                with Image.open(path) as image:
                    image.verify()
                with Image.open(path) as image:
                    image.load()
                    info = ImageInfo(image.width, image.height, _has_transparent_pixels(image))
            except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
                raise TemplateError(where, f"not a readable image: {path.name} ({exc})") from None
            self._images[path] = info
        return self._images[path]


def _has_transparent_pixels(image: Image.Image) -> bool:
    if image.mode not in ("RGBA", "LA", "PA") and "transparency" not in image.info:
        return False
    return image.convert("RGBA").getchannel("A").getextrema() != (255, 255)
