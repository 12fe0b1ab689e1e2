"""Stage 2: analysis, the safety pre-check and topic selection/routing."""

from typing import Any

import dagster as dg

from autoclip_assets.partitions import RETRY, content_items
from autoclip_core.safety.rules import check_text
from autoclip_core.schemas import ContentAnalysis, SafetyVerdict, SourceItem, TopicSelection
from resources.app_database import AppDatabase
from resources.llm.base import LLMResource

MIN_WORDS = {"en": 120, "ko": 80}
"""Shorter items don't carry a 30-60 s short."""


@dg.asset(partitions_def=content_items, retry_policy=RETRY, group_name="analysis", pool="llm")
def content_analysis(
    context: dg.AssetExecutionContext, source_item: SourceItem, llm: LLMResource
) -> ContentAnalysis:
    """Language, extractive summary, keywords and a topic label."""
    analysis = llm.analyze(source_item)
    context.add_output_metadata(
        {
            "language": analysis.language,
            "word_count": analysis.word_count,
            "sentences": len(analysis.sentences),
            "topic": analysis.topic,
            "keywords": ", ".join(analysis.keywords),
            "summary": dg.MetadataValue.md("\n".join(f"- {s}" for s in analysis.summary)),
        }
    )
    return analysis


def verdict_metadata(verdict: SafetyVerdict) -> dict[str, Any]:
    return {
        "verdict": "pass" if verdict.passed else "fail",
        "reason": verdict.reason,
        "findings": dg.MetadataValue.json([f.model_dump() for f in verdict.findings]),
    }


@dg.asset_check(
    asset=content_analysis,
    partitions_def=content_items,
    blocking=True,
    additional_ins={"source_item": dg.AssetIn("source_item")},
    description="Blocked topics/words of the project, PII and profanity (ko/en).",
)
def safety_precheck(
    context: dg.AssetCheckExecutionContext,
    content_analysis: ContentAnalysis,
    source_item: SourceItem,
    app_db: AppDatabase,
) -> dg.AssetCheckResult:
    project = app_db.store.project_of(source_item.id)
    verdict = check_text(
        f"{source_item.title}\n{source_item.text}",
        blocked_terms=list(project.blocked_terms),
        language=content_analysis.language,
    )
    return dg.AssetCheckResult(
        passed=verdict.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"safety pre-check: {verdict.reason}",
        metadata=verdict_metadata(verdict),
    )


def selection_score(analysis: ContentAnalysis) -> float:
    """0..1: enough text to tell a story, a clear topic, a usable summary."""
    length = min(analysis.word_count / 400, 1.0)
    richness = min(len(analysis.keywords) / 8, 1.0)
    summary = min(len(analysis.summary) / 4, 1.0)
    return round(0.5 * length + 0.25 * richness + 0.25 * summary, 3)


@dg.asset(partitions_def=content_items, retry_policy=RETRY, group_name="analysis")
def topic_selection(
    context: dg.AssetExecutionContext,
    source_item: SourceItem,
    content_analysis: ContentAnalysis,
    app_db: AppDatabase,
) -> TopicSelection:
    """Whether the item is used, and its route: template and target channels."""
    project = app_db.store.project_of(source_item.id)
    minimum = MIN_WORDS[content_analysis.language]
    if content_analysis.word_count < minimum or len(content_analysis.summary) < 3:
        raise dg.Failure(
            description=(
                f"not selected: {content_analysis.word_count} words and "
                f"{len(content_analysis.summary)} summary sentences "
                f"(needs {minimum} words and 3 sentences)"
            ),
            allow_retries=False,
        )
    selection = TopicSelection(
        selected=True,
        score=selection_score(content_analysis),
        reason=f"topic '{content_analysis.topic}', {content_analysis.word_count} words",
        template=project.default_template,  # type: ignore[arg-type]
        channels=list(project.channels),
    )
    context.add_output_metadata(
        {
            "score": selection.score,
            "template": selection.template,
            "channels": ", ".join(selection.channels),
            "reason": selection.reason,
        }
    )
    return selection
