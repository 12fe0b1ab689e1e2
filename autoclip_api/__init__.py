"""AutoClip's FastAPI service (everything under ``/api/v1``).

One package per domain — ``auth`` (identity, tokens, RBAC guards, Google sign-in), ``users``,
``organizations``, ``projects``, ``health`` — each with ``endpoints.py`` (the router),
``service.py``, ``repository.py`` and ``schemas.py``. ``core`` holds what every domain shares
(database session, errors, middleware, rate limiting and cache versions, the in-process
versioned caches, logging, metrics); ``context.py`` the per-app objects built from the
settings; ``app.py`` the ``create_app()`` factory.

Hot reads are served from per-process caches checked on every request against versions kept
in Redis (``core/ratelimit.py``, ``core/cache.py``); repositories mark what each write changes
(``autoclip_core.cache_versions.changed``) and the commit bumps those versions, so a change is
seen by the next request in every process.

Run it with ``make api`` or ``python -m autoclip_api serve``.
"""
