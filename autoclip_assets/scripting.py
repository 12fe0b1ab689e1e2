"""Stage 3: the script."""

import dagster as dg

from autoclip_assets.partitions import content_items
from autoclip_assets.retries import RETRY, provider_call
from autoclip_core.schemas import ContentAnalysis, Script, SourceItem, TopicSelection
from resources.app_database import AppDatabase
from resources.llm.base import LLMResource
from resources.vendors.usage import VendorCalls, recording_usage


def spoken_words(script: Script) -> int:
    return sum(len(part.split()) for part in script.spoken_parts())


@dg.asset(partitions_def=content_items, retry_policy=RETRY, group_name="script", pool="llm")
def script(
    context: dg.AssetExecutionContext,
    source_item: SourceItem,
    content_analysis: ContentAnalysis,
    topic_selection: TopicSelection,
    llm: LLMResource,
    app_db: AppDatabase,
) -> Script:
    """Title, hook, 3–6 scenes, call to action, hashtags and description — or, once a person
    edited the item's script, that script as it is."""
    edited = app_db.content.script_override(context.partition_key)
    calls = VendorCalls()
    if edited is not None:
        result = edited
    else:
        with (
            provider_call(context),
            recording_usage(context.partition_key, app_db.usage, app_db.documents) as calls,
        ):
            written = llm.write_script(source_item, content_analysis, topic_selection)
        result = Script.model_validate(written.model_dump())
    app_db.content.record_script(context.partition_key, result)
    context.add_output_metadata(
        {
            "edited": edited is not None,
            "language": result.language,
            "title": result.title,
            "scenes": len(result.scenes),
            "spoken_words": spoken_words(result),
            "hashtags": " ".join(result.hashtags),
            "script": dg.MetadataValue.md(
                "\n".join(
                    [f"**Hook:** {result.hook}"]
                    + [
                        f"{i}. *{s.on_screen_text}* — {s.narration}"
                        for i, s in enumerate(result.scenes, 1)
                    ]
                    + [f"**CTA:** {result.call_to_action}"]
                )
            ),
            **calls.metadata(),
        }
    )
    return result
