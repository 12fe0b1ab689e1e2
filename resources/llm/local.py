"""The local script writer: extractive analysis and templated scripts, no model needed.

Analysis: language detection, sentence splitting, keywords and a TextRank summary
(autoclip_core.nlp). Script: a hook from the title, 3-6 scenes narrating the summary
sentences that fit the spoken budget (about 40 s in English, 50 s in Korean, at the rates of
``autoclip_core.nlp.speech``), a call to action, hashtags and a description. Everything is
deterministic.
"""

from __future__ import annotations

import math
import re

from pydantic import Field

from autoclip_core.nlp.keywords import extract_keywords
from autoclip_core.nlp.language import detect_language
from autoclip_core.nlp.sentences import split_sentences
from autoclip_core.nlp.speech import spoken_units
from autoclip_core.nlp.summarize import summarize
from autoclip_core.nlp.topic import headline_case, topic_label
from autoclip_core.schemas import (
    ContentAnalysis,
    Language,
    Scene,
    Script,
    SourceItem,
    TopicSelection,
)
from resources.errors import LLMError
from resources.llm.base import LLMResource

MIN_SCENES, MAX_SCENES = 3, 6
MAX_SENTENCES_PER_SCENE = 2
MAX_TITLE_CHARS = 100
MAX_HEADLINE_CHARS = 40
# In spoken units (words / characters, autoclip_core.nlp.speech):
SHORT_TITLE = {"en": 12, "ko": 30}  # short enough to speak in the hook
IDEAL_SCENE = {"en": 22, "ko": 55}  # about 8 s in English, 11 s in Korean
MIN_HASHTAGS, MAX_HASHTAGS = 3, 8

HOOK_TAIL = {"en": "Here's what you need to know.", "ko": "지금 알아야 할 핵심을 정리했습니다."}
CALL_TO_ACTION = {
    "en": "Follow for more stories like this.",
    "ko": "더 많은 소식을 보려면 팔로우하세요.",
}
SOURCE_LABEL = {"en": "Source", "ko": "출처"}
FALLBACK_HASHTAGS = {"en": ["#News", "#Today", "#Shorts"], "ko": ["#뉴스", "#오늘의뉴스", "#쇼츠"]}
TITLE_TAG = re.compile(r"^\s*[\[(【][^\])】]{1,12}[\])】]\s*")  # "[속보]", "(Update)"
CLAUSE_END = (",", ";", ":")
ELLIPSIS = "\u2026"


class LocalLLM(LLMResource):
    """Analysis and script writing with rules and extractive NLP instead of a model."""

    summary_sentences: int = Field(default=6, ge=1, description="Sentences in the summary.")
    target_words_en: int = Field(
        default=110, ge=30, description="Spoken words of an English script, at most."
    )
    target_chars_ko: int = Field(
        default=260, ge=80, description="Spoken characters (without spaces) of a Korean script."
    )

    def analyze(self, item: SourceItem) -> ContentAnalysis:
        language = detect_language(f"{item.title}\n{item.text}")
        sentences = split_sentences(item.text, language)
        keywords = extract_keywords(f"{item.title}\n\n{item.text}", language)
        return ContentAnalysis(
            language=language,
            word_count=len(item.text.split()),
            sentences=sentences,
            summary=summarize(sentences, language, self.summary_sentences),
            keywords=keywords,
            topic=topic_label(keywords, language),
        )

    def write_script(
        self, item: SourceItem, analysis: ContentAnalysis, selection: TopicSelection
    ) -> Script:
        """A script within the spoken budget. ``selection`` does not change it: every
        template gets the same short script."""
        language = analysis.language
        hook = _hook(item.title, analysis.keywords, language)
        call_to_action = CALL_TO_ACTION[language]
        budget = (
            (self.target_words_en if language == "en" else self.target_chars_ko)
            - spoken_units(hook, language)
            - spoken_units(call_to_action, language)
        )
        # A summary too short for three scenes (a short article): narrate every sentence.
        sentences = analysis.summary
        if len(sentences) < MIN_SCENES:
            sentences = analysis.sentences
        narrations = _scene_narrations(sentences, budget, language)
        return Script(
            title=_shorten(" ".join(item.title.split()) or analysis.topic, MAX_TITLE_CHARS),
            hook=hook,
            scenes=_scenes(narrations, analysis.keywords, language),
            call_to_action=call_to_action,
            hashtags=_hashtags(analysis.keywords, language),
            description=f"{' '.join(analysis.summary)}\n\n{SOURCE_LABEL[language]}: {item.url}",
            language=language,
        )

    def judge(self, text: str, language: Language) -> None:
        """No model to ask: the safety rules decide alone."""
        return None


# --- hook -------------------------------------------------------------------------------


def _hook(title: str, keywords: list[str], language: Language) -> str:
    """The title, then "Here's what you need to know." (or the Korean equivalent); for a
    long title, the two top keywords take its place."""
    headline = TITLE_TAG.sub("", " ".join(title.split())).rstrip(".\u2026 ")
    if headline and spoken_units(headline, language) <= SHORT_TITLE[language]:
        stop = "" if headline.endswith(("?", "!")) else "."
        return f"{headline}{stop} {HOOK_TAIL[language]}"
    if language == "ko":
        subject = _korean_and(keywords[:2])
        return f"{subject}, {HOOK_TAIL['ko']}" if subject else HOOK_TAIL["ko"]
    if keywords:
        return f"Here's what you need to know about {' and '.join(keywords[:2])}."
    return HOOK_TAIL["en"]


def _korean_and(words: list[str]) -> str:
    """A와 B / A과 B: the particle depends on whether A ends in a consonant (받침)."""
    if len(words) < 2:
        return "".join(words)
    first, second = words
    last = first[-1]
    has_final = "\uac00" <= last <= "\ud7a3" and (ord(last) - 0xAC00) % 28 != 0
    return f"{first}{'과' if has_final else '와'} {second}"


# --- narration --------------------------------------------------------------------------


def _scene_narrations(sentences: list[str], budget: int, language: Language) -> list[str]:
    """Narration per scene: whole sentences that fit the budget, in order, 1-2 a scene.

    When fewer than three whole sentences fit, the first three are cut (at a clause or
    word boundary) to a third of the budget each.
    """
    pieces = _at_least_three(sentences)
    chosen: list[str] = []
    remaining = budget
    for piece in pieces:
        if len(chosen) == MAX_SCENES * MAX_SENTENCES_PER_SCENE:
            break
        cost = spoken_units(piece, language)
        if cost <= remaining:
            chosen.append(piece)
            remaining -= cost
    if len(chosen) < MIN_SCENES:
        share = budget // MIN_SCENES
        return [_cut(piece, share, language) for piece in pieces[:MIN_SCENES]]
    return _group(chosen, language)


def _at_least_three(sentences: list[str]) -> list[str]:
    """Split the longest piece in two until there are three (for very short articles)."""
    pieces = list(sentences)
    while len(pieces) < MIN_SCENES:
        longest = max(range(len(pieces)), key=lambda i: len(pieces[i].split()), default=None)
        if longest is None or len(pieces[longest].split()) < 2:
            raise LLMError("Too little text to write a script of three scenes.")
        words = pieces[longest].split()
        middle = len(words) // 2
        pieces[longest : longest + 1] = [" ".join(words[:middle]), " ".join(words[middle:])]
    return pieces


def _cut(sentence: str, limit: int, language: Language) -> str:
    """The longest start of ``sentence`` that fits ``limit`` with its closing ellipsis (at
    least one word), ended at a clause boundary when that keeps at least half of it."""
    if spoken_units(sentence, language) <= limit:
        return sentence
    words = sentence.split()
    fit = 1
    while spoken_units(" ".join(words[: fit + 1]) + ELLIPSIS, language) <= limit:
        fit += 1
    clause_ends = [i + 1 for i in range(fit) if words[i].endswith(CLAUSE_END)]
    if clause_ends and clause_ends[-1] * 2 >= fit:
        fit = clause_ends[-1]
    return " ".join(words[:fit]).rstrip(",;:") + ELLIPSIS


def _group(sentences: list[str], language: Language) -> list[str]:
    """Neighbouring sentences joined (one or two a scene) into 3-6 scenes, as even in
    length as possible: the grouping whose longest scene is shortest."""
    costs = [spoken_units(s, language) for s in sentences]
    count = len(sentences)
    wanted = max(round(sum(costs) / IDEAL_SCENE[language]), MIN_SCENES, math.ceil(count / 2))
    wanted = min(wanted, MAX_SCENES, count)
    # best[(i, g)]: (longest scene, scene spans) for the first i sentences in g scenes
    best: dict[tuple[int, int], tuple[int, list[tuple[int, int]]]] = {(0, 0): (0, [])}
    for end in range(1, count + 1):
        for scenes in range(1, wanted + 1):
            options = [
                (
                    max(best[start, scenes - 1][0], sum(costs[start:end])),
                    [*best[start, scenes - 1][1], (start, end)],
                )
                for start in range(end - 1, end - 1 - MAX_SENTENCES_PER_SCENE, -1)
                if (start, scenes - 1) in best
            ]
            if options:
                best[end, scenes] = min(options, key=lambda option: option[0])
    return [" ".join(sentences[start:end]) for start, end in best[count, wanted][1]]


# --- scenes -----------------------------------------------------------------------------


def _scenes(narrations: list[str], keywords: list[str], language: Language) -> list[Scene]:
    scenes = []
    shown: set[str] = set()  # keywords already used as a headline
    for narration in narrations:
        terms = _scene_terms(narration, keywords, language)
        fresh = sorted(terms, key=lambda term: term.lower() in shown)  # stable: rank kept
        headline = _headline(fresh, narration, language)
        shown.update(term.lower() for term in fresh[:2])
        visual_terms = _unique([*terms[:3], *keywords[:1]])
        scenes.append(
            Scene(
                narration=narration,
                on_screen_text=headline,
                visual_query=" ".join(visual_terms) or narration,
            )
        )
    return scenes


def _scene_terms(narration: str, keywords: list[str], language: Language) -> list[str]:
    """The article's keywords that the scene mentions, then the scene's own keywords."""
    lowered = narration.lower()
    mentioned = [k for k in keywords if k.lower() in lowered]
    return _unique([*mentioned, *extract_keywords(narration, language, k=4)])


def _headline(terms: list[str], narration: str, language: Language) -> str:
    """Up to two terms ("Subway Fares · Seoul"), else the narration's leading clause."""
    shown = [headline_case(t) if language == "en" else t for t in terms]
    for count in (2, 1):
        headline = " · ".join(shown[:count])
        if len(shown) >= count and len(headline) <= MAX_HEADLINE_CHARS:
            return headline
    leading_clause = re.split(r"[,;:\u2014]", narration, maxsplit=1)[0]
    return _shorten(leading_clause, MAX_HEADLINE_CHARS)


def _hashtags(keywords: list[str], language: Language) -> list[str]:
    tags = ["#" + re.sub(r"\W", "", headline_case(k) if language == "en" else k) for k in keywords]
    tags = [tag for tag in _unique(tags) if len(tag) > 1 and not tag[1:].isdigit()]
    if len(tags) < MIN_HASHTAGS:
        tags = _unique([*tags, *FALLBACK_HASHTAGS[language]])
    return tags[:MAX_HASHTAGS]


# --- text helpers -----------------------------------------------------------------------


def _shorten(text: str, max_chars: int) -> str:
    """``text`` cut at a word boundary to ``max_chars`` including a closing ellipsis."""
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(",;:.") + ELLIPSIS


def _unique(items: list[str]) -> list[str]:
    """``items`` without case-insensitive repeats, first spelling kept."""
    seen: dict[str, str] = {}
    for item in items:
        seen.setdefault(item.lower(), item)
    return list(seen.values())
