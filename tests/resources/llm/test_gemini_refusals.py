"""Which answers Gemini's filters withheld: told by the candidate's finish reason."""

from __future__ import annotations

import pytest
from google.genai import types

from resources.llm.gemini_transforms import block_reason


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (types.FinishReason.SAFETY, "answer withheld (SAFETY)"),
        (types.FinishReason.RECITATION, "answer withheld (RECITATION)"),
        (types.FinishReason.PROHIBITED_CONTENT, "answer withheld (PROHIBITED_CONTENT)"),
        (types.FinishReason.STOP, None),
        (types.FinishReason.MAX_TOKENS, None),
        (None, None),
    ],
)
def test_a_candidate_finished_by_a_filter_is_a_refusal(
    reason: types.FinishReason | None, expected: str | None
) -> None:
    response = types.GenerateContentResponse(candidates=[types.Candidate(finish_reason=reason)])
    assert block_reason(response) == expected
