import dagster as dg

content_items = dg.DynamicPartitionsDefinition(name="content_items")
"""One partition per content item; the key is the item's stable id."""

