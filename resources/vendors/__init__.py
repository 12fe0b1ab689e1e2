"""What every paid provider shares: one HTTP client with bounded retries (``http``), an answer
cache (``cache``), usage and prices (``usage``, ``prices``), rate limits (``ratelimit``) and the
fallback along a provider chain (``chain``)."""
