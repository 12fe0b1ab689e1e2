"""AutoClip's FastAPI service (everything under ``/api/v1``).

One package per domain — ``auth`` (identity, tokens, RBAC guards, Google sign-in), ``users``,
``organizations``, ``projects``, ``health`` — each with ``endpoints.py`` (the router),
``service.py``, ``repository.py`` and ``schemas.py``. ``core`` holds what every domain shares
(database session, errors, middleware, rate limiting, logging, metrics); ``context.py`` the
per-app objects built from the settings; ``app.py`` the ``create_app()`` factory.

Run it with ``make api`` or ``python -m autoclip_api serve``.
"""
