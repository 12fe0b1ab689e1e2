"""Extractive summary: TextRank over shared content words, with a mild lead bias.

Sentences are nodes; two sentences are linked by the number of content words they share,
normalised by their lengths (Mihalcea & Tarau, 2004). PageRank gives each sentence a
centrality; news puts its key facts first, so the score is multiplied by a factor falling
linearly from 1.25 for the first sentence to 1.0 for the last. Content words are
stopword-filtered English words or Korean content morphemes (nouns, verb and adjective
stems, roots, Latin words).
"""

from __future__ import annotations

import math

from autoclip_core.nlp import english
from autoclip_core.nlp.korean import morphemes
from autoclip_core.schemas import Language

KOREAN_CONTENT_TAGS = frozenset({"NNG", "NNP", "VV", "VA", "XR", "SL", "SH"})
# Sentence length limits, in words (Korean: 어절): fragments and run-ons make poor narration.
MIN_WORDS = {"en": 5, "ko": 3}
MAX_WORDS = {"en": 60, "ko": 40}
DAMPING = 0.85
ITERATIONS = 50
LEAD_BONUS = 0.25


def summarize(sentences: list[str], language: Language, n: int) -> list[str]:
    """The ``n`` most central sentences, in their original order.

    Sentences shorter or longer than the limits are left out unless no sentence fits them.
    """
    if n <= 0:
        return []
    candidates = [
        s for s in sentences if MIN_WORDS[language] <= len(s.split()) <= MAX_WORDS[language]
    ]
    candidates = candidates or list(sentences)
    if len(candidates) <= n:
        return candidates
    terms = _content_terms(candidates, language)
    ranks = _pagerank(_similarity_matrix(terms))
    count = len(candidates)
    scores = [rank * (1 + LEAD_BONUS * (1 - i / (count - 1))) for i, rank in enumerate(ranks)]
    best = sorted(range(count), key=lambda i: (-scores[i], i))[:n]
    return [candidates[i] for i in sorted(best)]


def _content_terms(sentences: list[str], language: Language) -> list[set[str]]:
    if language == "ko":
        return [
            {token.form for token in tokens if token.tag in KOREAN_CONTENT_TAGS}
            for tokens in morphemes(sentences)
        ]
    return [set(english.content_terms(sentence)) for sentence in sentences]


def _similarity_matrix(terms: list[set[str]]) -> list[list[float]]:
    size = len(terms)
    matrix = [[0.0] * size for _ in range(size)]
    for i in range(size):
        for j in range(i + 1, size):
            shared = len(terms[i] & terms[j])
            if shared:
                norm = math.log(1 + len(terms[i])) + math.log(1 + len(terms[j]))
                matrix[i][j] = matrix[j][i] = shared / norm
    return matrix


def _pagerank(matrix: list[list[float]]) -> list[float]:
    size = len(matrix)
    out_weight = [sum(row) for row in matrix]
    # incoming[i]: (j, share of j's rank that flows to i), for the linked sentences only.
    incoming = [
        [(j, matrix[j][i] / out_weight[j]) for j in range(size) if matrix[j][i]]
        for i in range(size)
    ]
    ranks = [1.0 / size] * size
    for _ in range(ITERATIONS):
        ranks = [
            (1 - DAMPING) / size + DAMPING * sum(ranks[j] * share for j, share in links)
            for links in incoming
        ]
    return ranks
