"""Which language a text is in: Korean by its Hangul share, anything else by langdetect."""

from __future__ import annotations

import re
from functools import cache

from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

from autoclip_core.schemas import Language

HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
KOREAN_MIN_HANGUL_RATIO = 0.3
UNDETERMINED = "und"


def hangul_ratio(text: str) -> float:
    """Share of the letters in ``text`` that are Hangul (0.0 when it has no letters)."""
    letters = [char for char in text if char.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for char in letters if HANGUL.match(char)) / len(letters)


@cache
def _detector_factory() -> DetectorFactory:
    # A private factory with a fixed seed: langdetect is random otherwise.
    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.set_seed(0)
    return factory


def detect_language_code(text: str) -> str:
    """The raw language code ("ko", "en", "de", ...) or "und" when there is nothing to judge."""
    if hangul_ratio(text) >= KOREAN_MIN_HANGUL_RATIO:
        return "ko"
    detector = _detector_factory().create()
    detector.append(text)
    try:
        return str(detector.detect())
    except LangDetectException:
        return UNDETERMINED


def detect_language(text: str) -> Language:
    """The pipeline language: "ko" for Korean, "en" for everything else (the pipeline's
    voices, rates and rules cover these two)."""
    return "ko" if detect_language_code(text) == "ko" else "en"
