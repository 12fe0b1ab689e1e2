"""Stage 2: analysis, the safety pre-check and topic selection/routing."""

from typing import Any

import dagster as dg

from autoclip_assets.partitions import content_items
from autoclip_assets.retries import RETRY, provider_call
from autoclip_core.nlp.speech import SPEAKING_RATES, speaking_seconds, spoken_units
from autoclip_core.safety.rules import check_text
from autoclip_core.schemas import (
    ContentAnalysis,
    Language,
    SafetyVerdict,
    SourceItem,
    TopicSelection,
)
from resources.app_database import AppDatabase
from resources.llm.base import LLMResource
from resources.vendors.usage import recording_usage

MIN_NARRATION_S = 40.0
"""Speaking the whole item takes at least this long, or it does not carry a 30-60 s short."""
MIN_SUMMARY_SENTENCES = 3
"""One per scene of the shortest script."""
FULL_LENGTH_S = 150.0
"""Items this long to speak, or longer, score full marks for length."""


@dg.asset(partitions_def=content_items, retry_policy=RETRY, group_name="analysis", pool="llm")
def content_analysis(
    context: dg.AssetExecutionContext,
    source_item: SourceItem,
    llm: LLMResource,
    app_db: AppDatabase,
) -> ContentAnalysis:
    """Language, extractive summary, keywords and a topic label."""
    with (
        provider_call(context),
        recording_usage(context.partition_key, app_db.usage, app_db.documents) as calls,
    ):
        analysis = llm.analyze(source_item)
    context.add_output_metadata(
        {
            "language": analysis.language,
            "word_count": analysis.word_count,
            "sentences": len(analysis.sentences),
            "topic": analysis.topic,
            "keywords": ", ".join(analysis.keywords),
            "summary": dg.MetadataValue.md("\n".join(f"- {s}" for s in analysis.summary)),
            **calls.metadata(),
        }
    )
    return analysis


def precheck_text(item: SourceItem) -> str:
    """What the safety pre-check judges of an item."""
    return f"{item.title}\n{item.text}"


def verdict_metadata(verdict: SafetyVerdict) -> dict[str, Any]:
    return {
        "verdict": "pass" if verdict.passed else "fail",
        "reason": verdict.reason,
        "findings": dg.MetadataValue.json([f.model_dump() for f in verdict.findings]),
    }


def judged(
    context: dg.AssetCheckExecutionContext,
    rules: SafetyVerdict,
    text: str,
    language: Language,
    llm: LLMResource,
    *,
    content_id: str,
    app_db: AppDatabase,
) -> SafetyVerdict:
    """The rules' verdict when they fail; when they pass, the LLM's judge has the last word
    (a provider without a model has none, and the rules' verdict stands). Every verdict is
    kept in the document store."""
    verdict = rules
    if rules.passed:
        with provider_call(context), recording_usage(content_id, app_db.usage, app_db.documents):
            verdict = llm.judge(text, language) or rules
    app_db.documents.keep(
        "safety_verdict",
        [{"check": [spec.name for spec in context.check_specs], "judge": "rules" if verdict is rules
          else "llm", "language": language, **verdict.model_dump(mode="json")}],
        content_id=content_id,
    )  # fmt: skip
    return verdict


@dg.asset_check(
    asset=content_analysis,
    partitions_def=content_items,
    blocking=True,
    additional_ins={"source_item": dg.AssetIn("source_item")},
    description="Blocked topics/words of the project, PII and profanity (ko/en), then the "
    "LLM's safety judge when the provider has one.",
)
def safety_precheck(
    context: dg.AssetCheckExecutionContext,
    content_analysis: ContentAnalysis,
    source_item: SourceItem,
    app_db: AppDatabase,
    llm: LLMResource,
) -> dg.AssetCheckResult:
    project = app_db.projects.of_content(source_item.id)
    text = precheck_text(source_item)
    language = content_analysis.language
    rules = check_text(text, blocked_terms=list(project.blocked_terms), language=language)
    verdict = judged(context, rules, text, language, llm, content_id=source_item.id, app_db=app_db)
    return dg.AssetCheckResult(
        passed=verdict.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"safety pre-check: {verdict.reason}",
        metadata=verdict_metadata(verdict),
    )


def selection_score(analysis: ContentAnalysis, narration_s: float) -> float:
    """0..1: enough text to tell a story, a clear topic, a usable summary."""
    length = min(narration_s / FULL_LENGTH_S, 1.0)
    richness = min(len(analysis.keywords) / 8, 1.0)
    summary = min(len(analysis.summary) / 4, 1.0)
    return round(0.5 * length + 0.25 * richness + 0.25 * summary, 3)


def not_selected(item: SourceItem, analysis: ContentAnalysis) -> str | None:
    """Why the item cannot carry a short (too little to say, or too thin a summary), or None."""
    language = analysis.language
    narration_s = speaking_seconds(item.text, language)
    sentences = len(analysis.summary)
    if narration_s >= MIN_NARRATION_S and sentences >= MIN_SUMMARY_SENTENCES:
        return None
    length = f"{spoken_units(item.text, language)} {SPEAKING_RATES[language].unit}"
    return (
        f"not selected: about {narration_s:.0f} s of narration ({length}) and "
        f"{sentences} summary sentences (needs {MIN_NARRATION_S:.0f} s and "
        f"{MIN_SUMMARY_SENTENCES} sentences)"
    )


@dg.asset(partitions_def=content_items, retry_policy=RETRY, group_name="analysis")
def topic_selection(
    context: dg.AssetExecutionContext,
    source_item: SourceItem,
    content_analysis: ContentAnalysis,
    app_db: AppDatabase,
) -> TopicSelection:
    """Whether the item is used, and its route: template and target channels (the item's own
    when it has them, else its project's)."""
    route = app_db.content.route(source_item.id)
    refusal = not_selected(source_item, content_analysis)
    if refusal is not None:
        raise dg.Failure(description=refusal, allow_retries=False)
    narration_s = speaking_seconds(source_item.text, content_analysis.language)
    selection = TopicSelection(
        selected=True,
        score=selection_score(content_analysis, narration_s),
        reason=f"topic '{content_analysis.topic}', about {narration_s:.0f} s of narration",
        template=route.template_id,
        channels=route.channels,
    )
    context.add_output_metadata(
        {
            "score": selection.score,
            "template": selection.template,
            "channels": ", ".join(selection.channels),
            "reason": selection.reason,
            "narration_s": round(narration_s, 1),
        }
    )
    return selection
