"""Word timings of a speech file, kept in a sidecar: ``<audio file>.transcript.json``.

``{"words": [{"text": "Hello", "start": 0.0, "end": 0.31}, ...]}`` (seconds into the audio
file). The local renderer reads it for ``transcript_source`` captions (it has no speech
recogniser); our TTS knows each phrase's exact time, so the pipeline writes it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from autoclip_core.renderscript.model import TemplateError
from autoclip_core.schemas import CaptionCue

SIDECAR_SUFFIX = ".transcript.json"


class Word(BaseModel):
    text: str = Field(min_length=1)
    start: float = Field(ge=0)
    end: float = Field(ge=0)


class Transcript(BaseModel):
    words: list[Word]


def words_from_cues(cues: Sequence[CaptionCue]) -> list[Word]:
    """Word times from phrase cues: each phrase's time shared by its words' lengths."""
    words: list[Word] = []
    for cue in cues:
        parts = cue.text.split()
        if not parts:
            continue
        total = sum(len(p) + 1 for p in parts)
        at = cue.start
        for part in parts:
            step = (cue.end - cue.start) * (len(part) + 1) / total
            words.append(Word(text=part, start=round(at, 4), end=round(at + step, 4)))
            at += step
    return words


def sidecar_path(audio: Path) -> Path:
    return audio.with_name(audio.name + SIDECAR_SUFFIX)


def write_transcript(audio: Path, words: Sequence[Word]) -> Path:
    path = sidecar_path(audio)
    path.write_text(Transcript(words=list(words)).model_dump_json(), encoding="utf-8")
    return path


def read_transcript(audio: Path, where: str) -> Transcript:
    path = sidecar_path(audio)
    if not path.is_file():
        raise TemplateError(
            where,
            f"no transcript for {audio.name}: the local renderer reads word times from "
            f"{path.name} (see README)",
        )
    try:
        return Transcript.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, ValidationError) as exc:
        raise TemplateError(where, f"{path.name} is not a valid transcript: {exc}") from None
