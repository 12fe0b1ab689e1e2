"""Near-duplicate detection: 128-bit simhash over word 3-shingles, and a per-project index.

Two items are the same story when they share an id, a canonical URL, or when their
fingerprints differ in at most ``max_distance`` of 128 bits (default 24). For simhash the
expected share of differing bits is θ/π, θ the angle between the two texts' shingle
vectors: 24 bits ≈ cosine similarity 0.83 — a syndicated copy with a different lead or
footer — while unrelated texts differ in ~64 ± 6 bits. Texts shorter than
``MIN_SHINGLES`` shingles get no fingerprint (too noisy) and are compared by URL only.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

SHINGLE_WORDS = 3
MIN_SHINGLES = 20
FINGERPRINT_SAMPLE_CHARS = 20_000
_WORD = re.compile(r"\w+", re.UNICODE)


def shingles(text: str) -> Counter[str]:
    words = _WORD.findall(unicodedata.normalize("NFKC", text[:FINGERPRINT_SAMPLE_CHARS]).casefold())
    return Counter(
        " ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)
    )


def simhash128(text: str) -> int | None:
    """The 128-bit simhash of ``text``'s word 3-shingles (weighted by count), or None."""
    counts = shingles(text)
    if len(counts) < MIN_SHINGLES:
        return None
    digests = b"".join(hashlib.blake2b(s.encode(), digest_size=16).digest() for s in counts)
    bits = np.unpackbits(np.frombuffer(digests, dtype=np.uint8)).reshape(len(counts), 128)
    weights = np.fromiter(counts.values(), dtype=np.int64, count=len(counts))
    votes = (bits.astype(np.int64) * 2 - 1).T @ weights
    value = 0
    for bit in (votes > 0).tolist():
        value = (value << 1) | int(bit)
    return value


def fingerprint_hex(text: str) -> str | None:
    value = simhash128(text)
    return None if value is None else f"{value:032x}"


def parse_fingerprint(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(value, 16)
    except ValueError:
        return None


def distance(a: int, b: int) -> int:
    return (a ^ b).bit_count()


@dataclass(frozen=True)
class Duplicate:
    of: str
    reason: str


class DedupeIndex:
    """Known items of one project (ids, canonical URLs, fingerprints); grows as items register."""

    def __init__(self, max_distance: int = 24) -> None:
        self.max_distance = max_distance
        self.ids: set[str] = set()
        self.urls: dict[str, str] = {}
        self._fp_ids: list[str] = []
        self._hi = np.zeros(64, dtype=np.uint64)
        self._lo = np.zeros(64, dtype=np.uint64)

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, item_id: str, canonical: str | None, fingerprint: str | int | None) -> None:
        self.ids.add(item_id)
        if canonical:
            self.urls.setdefault(canonical, item_id)
        value = parse_fingerprint(fingerprint) if isinstance(fingerprint, str) else fingerprint
        if value is None:
            return
        n = len(self._fp_ids)
        if n == len(self._hi):
            self._hi = np.concatenate([self._hi, np.zeros(n, dtype=np.uint64)])
            self._lo = np.concatenate([self._lo, np.zeros(n, dtype=np.uint64)])
        self._hi[n] = value >> 64
        self._lo[n] = value & 0xFFFFFFFFFFFFFFFF
        self._fp_ids.append(item_id)

    def add_all(self, rows: Iterable[tuple[str, str | None, str | None]]) -> None:
        for item_id, canonical, fingerprint in rows:
            self.add(item_id, canonical, fingerprint)

    def nearest(self, fingerprint: int) -> tuple[str, int] | None:
        n = len(self._fp_ids)
        if n == 0:
            return None
        hi = np.uint64(fingerprint >> 64)
        lo = np.uint64(fingerprint & 0xFFFFFFFFFFFFFFFF)
        d = np.bitwise_count(self._hi[:n] ^ hi) + np.bitwise_count(self._lo[:n] ^ lo)
        best = int(np.argmin(d))
        return self._fp_ids[best], int(d[best])

    def match(
        self, item_id: str, canonical: str | None, fingerprint: str | None
    ) -> Duplicate | None:
        """Why this item is already known, or None when it is new."""
        if item_id in self.ids:
            return Duplicate(item_id, "same id")
        if canonical and canonical in self.urls:
            return Duplicate(self.urls[canonical], f"same canonical URL {canonical}")
        value = parse_fingerprint(fingerprint)
        if value is not None:
            near = self.nearest(value)
            if near is not None and near[1] <= self.max_distance:
                return Duplicate(near[0], f"near-duplicate text ({near[1]} of 128 bits differ)")
        return None
