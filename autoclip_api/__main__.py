"""``python -m autoclip_api migrate`` · ``python -m autoclip_api serve [--workers N]``."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from typing import Any

import uvicorn
from sqlalchemy import make_url

from autoclip_api.core.metrics import metrics_listener
from autoclip_api.core.secrets import MissingSecretError, jwt_secret
from autoclip_core.db.engine import make_engine
from autoclip_core.db.migrate import SchemaNotCurrentError, check_current, upgrade
from autoclip_core.settings import get_settings


def log_config(level: str = "INFO") -> dict[str, Any]:
    """uvicorn's and the API's loggers, to stderr, through the credential-redacting filter."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": "autoclip_api.core.logs.RedactingFilter"}},
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
                "filters": ["redact"],
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "autoclip_api": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autoclip_api", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="bring the app database to the latest schema")
    serve = commands.add_parser("serve", help="run the API (uvicorn)")
    serve.add_argument("--host", default=None, help="default: AUTOCLIP_API_HOST (127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="default: AUTOCLIP_API_PORT (8000)")
    serve.add_argument(
        "--workers", type=int, default=1, help="processes (more than one needs Redis)"
    )
    serve.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)

    settings = get_settings()
    if args.command == "migrate":
        upgrade(settings.app_database_url)
        dialect = make_url(settings.app_database_url).get_backend_name()
        print(f"app database at the latest revision ({dialect})")
        return 0
    try:
        jwt_secret(settings)  # refuse to start without one; create the local one once
    except MissingSecretError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.workers > 1 and not settings.redis_url:
        # Rate limits and the versions that keep the caches current would be per process.
        print(
            "error: more than one worker needs AUTOCLIP_REDIS_URL (without Redis, rate limits "
            "and cache invalidation are per process)",
            file=sys.stderr,
        )
        return 2
    engine = make_engine(settings.app_database_url)
    try:
        check_current(engine)  # migrating is a step of its own
    except SchemaNotCurrentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    with ExitStack() as stack:
        if settings.metrics_port:
            where = f"{settings.metrics_host}:{settings.metrics_port}"
            try:
                stack.enter_context(
                    metrics_listener(
                        settings.metrics_host, settings.metrics_port, workers=args.workers
                    )
                )
            except OSError as exc:
                print(f"error: metrics listener on {where}: {exc.strerror}", file=sys.stderr)
                return 2
        uvicorn.run(
            "autoclip_api.app:create_server_app",
            factory=True,
            host=args.host or settings.api_host,
            port=args.port or settings.api_port,
            workers=args.workers,
            log_config=log_config(args.log_level.upper()),
            access_log=False,  # the API logs each request itself (route template, no query)
            server_header=False,
            # X-Forwarded-For/-Proto are believed only from AUTOCLIP_TRUSTED_PROXIES.
            proxy_headers=bool(settings.trusted_proxy_list),
            forwarded_allow_ips=settings.trusted_proxy_list,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
