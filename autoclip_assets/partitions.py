import dagster as dg

content_items = dg.DynamicPartitionsDefinition(name="content_items")
"""One partition per content item; the key is the item's stable id."""

RETRY = dg.RetryPolicy(max_retries=3, delay=0.5, backoff=dg.Backoff.EXPONENTIAL)
"""Transient failures (provider hiccups) are retried 3 times: 0.5 s, 1 s, 2 s."""
