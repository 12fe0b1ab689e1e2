"""argon2id at or above the OWASP minimum, re-hashing of old parameters, password policy."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from argon2 import Type, extract_parameters
from argon2.low_level import ARGON2_VERSION
from argon2.profiles import RFC_9106_LOW_MEMORY
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import create_engine, select

from autoclip_api.auth.passwords import Passwords, check_password_policy, common_passwords
from autoclip_core.models import User
from autoclip_core.settings import Settings
from tests.api.conftest import client_for
from tests.api.helpers import PASSWORD, ApiClient

OWASP_MIN_MEMORY_KIB = 19 * 1024
OWASP_MIN_TIME_COST = 2


def test_production_parameters_meet_the_owasp_minimum() -> None:
    settings = Settings(env="prod", jwt_secret="p" * 48)
    passwords = Passwords(
        time_cost=settings.password_hash_time_cost,
        memory_kib=settings.password_hash_memory_kib,
        parallelism=settings.password_hash_parallelism,
    )
    params = extract_parameters(passwords.hash("a password for the test"))
    assert params.type is Type.ID
    assert params.version == ARGON2_VERSION
    assert params.memory_cost >= OWASP_MIN_MEMORY_KIB
    assert params.time_cost >= OWASP_MIN_TIME_COST
    assert params.parallelism >= 1
    # argon2-cffi's RFC 9106 "low memory" profile (m=64 MiB, t=3, p=4) is the default
    assert (params.memory_cost, params.time_cost, params.parallelism) == (
        RFC_9106_LOW_MEMORY.memory_cost,
        RFC_9106_LOW_MEMORY.time_cost,
        RFC_9106_LOW_MEMORY.parallelism,
    )


@pytest.mark.parametrize("env", ["local", "prod"])
@pytest.mark.parametrize(
    "weak", [{"password_hash_memory_kib": 1024}, {"password_hash_time_cost": 1}]
)
def test_parameters_below_owasp_are_refused_outside_tests(env: str, weak: dict[str, int]) -> None:
    with pytest.raises(ValidationError, match="OWASP"):
        Settings(env=env, jwt_secret="p" * 48, **weak)


def test_policy_refuses_short_and_common_passwords() -> None:
    assert len(common_passwords()) > 19_000
    for weak in ("abc", "123456789", "1234567890", "iloveyou12", "PASSWORD123"):
        with pytest.raises(ValueError, match="password"):
            check_password_policy(weak)
    assert check_password_policy("rhubarb-telescope-42") == "rhubarb-telescope-42"


def test_verify_costs_a_hash_even_for_unknown_users() -> None:
    passwords = Passwords(time_cost=1, memory_kib=1024, parallelism=1)
    assert passwords.verify(None, "whatever password") is False
    assert passwords._dummy is not None  # a real argon2 verification ran


@pytest.mark.anyio
async def test_login_rehashes_a_hash_with_old_parameters(
    app_factory: Callable[..., FastAPI], pg_url: str
) -> None:
    weak_app = app_factory()  # FAST_HASHING: m=1 MiB, t=1, p=1
    async with client_for(weak_app) as http:
        account = await ApiClient(http).register(password=PASSWORD)
    engine = create_engine(pg_url)

    def stored_hash() -> str:
        with engine.connect() as conn:
            return str(conn.scalar(select(User.password_hash).where(User.email == account.email)))

    old = stored_hash()
    assert extract_parameters(old).memory_cost == 1024

    strong_app = app_factory(
        password_hash_memory_kib=OWASP_MIN_MEMORY_KIB, password_hash_time_cost=2
    )
    async with client_for(strong_app) as http:
        await ApiClient(http).login(account)
        new = stored_hash()
        params = extract_parameters(new)
        assert (params.memory_cost, params.time_cost) == (OWASP_MIN_MEMORY_KIB, 2)
        assert params.type is Type.ID
        # the new hash verifies, and is not re-hashed again
        await ApiClient(http).login(account)
        assert stored_hash() == new
    engine.dispose()
