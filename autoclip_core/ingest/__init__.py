"""Ingestion: configured sources → normalised, de-duplicated content items.

- ``config``      the sources file (``AUTOCLIP_SOURCES_FILE``): projects, sources, limits
- ``state``       per-source state kept in the sensor cursor (ETag, errors, back-off)
- ``normalize``   canonical URLs, language, fingerprint of an item
- ``dedupe``      128-bit simhash and the per-project index of known items
- ``article``     full text of teaser entries (trafilatura over the guarded fetcher)
- ``rss`` / ``youtube`` / ``json_api`` / ``drop_folder``   one reader per source type
- ``engine``      one sensor tick: poll due sources, enrich, dedupe, register
- ``scoring``     the daily batch's ranking of candidate items

Every network call goes through ``autoclip_core.fetch`` (SSRF guard, caps, timeouts).
"""
