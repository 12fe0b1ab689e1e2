import dagster as dg

from autoclip_core.pipeline_names import CONTENT_PARTITIONS

content_items = dg.DynamicPartitionsDefinition(name=CONTENT_PARTITIONS)
"""One partition per content item; the key is the item's stable id."""

