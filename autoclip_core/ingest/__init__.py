"""Ingestion: sources → normalised, de-duplicated content items.

- ``config``      the sources file (``AUTOCLIP_SOURCES_FILE``): projects, sources, limits
- ``catalog``     the ``sources`` table: the file's sources mirrored, the API's read, health
- ``state``       per-source state of a tick: fetch position (cursor) and health (table)
- ``normalize``   canonical URLs, language, fingerprint of an item
- ``dedupe``      128-bit simhash and the per-project index of known items
- ``intake``      normalise, de-duplicate, register: one judgement for polled and pushed items
- ``article``     full text of teaser entries (trafilatura over the guarded fetcher)
- ``rss`` / ``youtube`` / ``json_api`` / ``drop_folder``   one reader per source type
- ``webhook``     pushed items (``POST …/sources/{sid}/items``) taken in like polled ones
- ``engine``      one sensor tick: poll due sources, enrich, dedupe, register
- ``scoring``     the daily batch's ranking of candidate items

Every network call goes through ``autoclip_core.fetch`` (SSRF guard, caps, timeouts).
"""
