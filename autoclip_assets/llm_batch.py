"""``llm_batch_job``: a daily batch's language work asked ahead, at the batch price.

With ``AUTOCLIP_GEMINI_BATCH=1`` the daily batch schedule requests this job for a project's
picked items instead of their ``content_job`` runs. Its one step asks the LLM provider to
``prepare`` (Gemini: its Batch API) in two rounds — the analyses, then, for the items the
safety rules and the selection let through, the safety verdicts and the scripts — and records
what the answers cost against each item. The answers land in the provider's answer cache, so
the items' runs, requested by ``sensors.llm_batch`` once this run ends (whether it succeeded
or not), take them from there: ``content_analysis``, ``safety_precheck`` and ``script`` make
no call for what the batch answered, and ask one by one for what it did not.
"""

import dagster as dg
from pydantic import model_validator

from autoclip_assets.analysis import not_selected, precheck_text
from autoclip_core.safety.rules import check_text
from autoclip_core.schemas import SourceItem
from resources.app_database import AppDatabase
from resources.errors import ProviderError
from resources.llm.base import (
    AnalysisQuestion,
    JudgeQuestion,
    LLMResource,
    Prepared,
    Question,
    ScriptQuestion,
)
from resources.vendors.usage import recording_usage, store_calls


class LLMBatchConfig(dg.Config):
    project: str
    items: list[str]
    """Content ids, in the batch's ranking order."""
    scores: list[float]
    """The ranking score of each item (the item runs are tagged with it)."""

    @model_validator(mode="after")
    def _one_score_per_item(self) -> "LLMBatchConfig":
        if len(self.items) != len(self.scores):
            raise ValueError(f"{len(self.items)} items but {len(self.scores)} scores")
        return self


@dg.op(description="The daily batch's analyses, safety verdicts and scripts, asked ahead.")
def llm_batch(
    context: dg.OpExecutionContext,
    config: LLMBatchConfig,
    llm: LLMResource,
    app_db: AppDatabase,
) -> None:
    items = [app_db.content.source_item(content_id) for content_id in config.items]
    first = llm.prepare([AnalysisQuestion(item) for item in items])
    record(first, app_db)
    second = llm.prepare(later_questions(context, items, llm, app_db))
    record(second, app_db)
    for round_, prepared in (("analyses", first), ("verdicts and scripts", second)):
        for content_id, reasons in prepared.missing.items():
            context.log.warning(f"{content_id}: {round_} not answered ahead: {'; '.join(reasons)}")
    context.add_output_metadata(
        {
            "items": len(items),
            "answered_ahead": sum(first.answered.values()) + sum(second.answered.values()),
            "not_answered_ahead": sum(len(r) for p in (first, second) for r in p.missing.values()),
            "batches": dg.MetadataValue.json({**first.batches, **second.batches}),
            "vendor_cost_usd": round(
                sum(c.cost_usd for p in (first, second) for c in p.calls.values()), 9
            ),
        }
    )


def later_questions(
    context: dg.OpExecutionContext,
    items: list[SourceItem],
    llm: LLMResource,
    app_db: AppDatabase,
) -> list[Question]:
    """The safety verdict and the script of each item its run will get to: analysed (from the
    first round, else by an ordinary call, charged to the item), passing the safety rules and
    selected. An item the rules or the selection stop costs no script."""
    questions: list[Question] = []
    for item in items:
        try:
            with recording_usage(item.id, app_db.usage, app_db.documents):
                analysis = llm.analyze(item)
        except ProviderError as error:
            context.log.warning(f"{item.id}: not analysed ahead ({error}); its run asks again")
            continue
        text = precheck_text(item)
        blocked_terms = list(app_db.projects.of_content(item.id).blocked_terms)
        rules = check_text(text, blocked_terms=blocked_terms, language=analysis.language)
        if not rules.passed or not_selected(item, analysis) is not None:
            continue
        questions += [
            JudgeQuestion(item.id, text, analysis.language),
            ScriptQuestion(item, analysis),
        ]
    return questions


def record(prepared: Prepared, app_db: AppDatabase) -> None:
    for content_id, calls in prepared.calls.items():
        store_calls(content_id, calls, app_db.usage, app_db.documents)


@dg.job(
    executor_def=dg.in_process_executor,
    description="A daily batch's analyses, safety verdicts and scripts asked ahead through the "
    "LLM provider's batch API; the items' runs follow when it ends.",
)
def llm_batch_job() -> None:
    llm_batch()
