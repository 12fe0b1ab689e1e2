"""Real pictures for the picture vendors' fakes: each id gets its own colours, at any size."""

from __future__ import annotations

import hashlib
import io
from functools import cache

from PIL import Image, ImageDraw


@cache
def picture(seed: str, width: int, height: int, image_format: str = "JPEG") -> bytes:
    colour = hashlib.sha256(seed.encode()).digest()
    image = Image.new("RGB", (width, height), (colour[0], colour[1], colour[2]))
    draw = ImageDraw.Draw(image)
    draw.ellipse(
        (width // 4, height // 4, 3 * width // 4, 3 * height // 4),
        fill=(colour[3], colour[4], colour[5]),
    )
    buffer = io.BytesIO()
    image.save(buffer, format=image_format)
    return buffer.getvalue()


def query_ids(query: str, count: int, start: int = 1000) -> list[int]:
    """The same ids for the same query, different ones for another query."""
    base = start + int(hashlib.sha256(query.casefold().encode()).hexdigest()[:6], 16) % 100_000
    return [base * 100 + n for n in range(count)]
