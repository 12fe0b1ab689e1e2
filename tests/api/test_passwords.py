"""argon2id at or above the OWASP minimum, re-hashing of old parameters, password policy."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from argon2 import Type, extract_parameters
from argon2.low_level import ARGON2_VERSION
from argon2.profiles import RFC_9106_LOW_MEMORY
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import create_engine, select

from autoclip_api.auth.passwords import Passwords, check_new_password, common_passwords
from autoclip_core.db.models import User
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


def test_policy_refuses_short_common_weak_and_personal_passwords() -> None:
    assert len(common_passwords()) > 19_000
    refused = {
        "abc": "at least 10 characters",
        "1234567890": "too common",
        "PASSWORD123": "too common",
        "iloveyou12": "too common",
        "bbbbbbbbbb": "too easy to guess (strength 0 of 4",
        "a" * 300: "too easy to guess",  # rated on its first 72 characters
        " " * 10: "only whitespace",
        "\t \n \u00a0 \u3000  \t ": "only whitespace",
        "lovelace@example.com": "e-mail address",
        "LoveLace@Example.com and more": "e-mail address",
        "lovelace-analytical-1842": "e-mail address",  # its part before the @
        "Ada Byron's Engine 1843": "your name",
    }
    for password, reason in refused.items():
        with pytest.raises(ValueError, match=re.escape(reason)):
            check_new_password(password, email="lovelace@example.com", name="Ada Byron")
    # a short local part or name is not searched for: "ad" is in too many words
    assert check_new_password("nevada-rhubarb-telescope", email="ad@example.com", name="Al")
    for strong in ("rhubarb-telescope-42", "correct horse battery staple", "Tr0ub4dor&3xyzzy!"):
        assert check_new_password(strong, email="ada@example.com", name="Ada Byron") == strong


def test_a_refusal_says_why_and_what_helps() -> None:
    with pytest.raises(ValueError, match="too easy to guess") as refusal:
        check_new_password("bbbbbbbbbb", email=None, name=None)
    message = str(refusal.value)
    assert "at least 3 needed" in message
    assert 'Repeats like "aaa" are easy to guess' in message
    assert "Add another word or two" in message


@pytest.mark.anyio
async def test_a_new_password_is_held_to_the_policy_with_the_accounts_own_words(
    client: ApiClient,
) -> None:
    account = await client.register(email="grace.hopper@example.com")
    for weak, reason in (
        ("grace.hopper@example.com", "e-mail address"),
        ("Test User forever 99", "your name"),
        ("bbbbbbbbbb", "too easy to guess"),
    ):
        response = await client.patch(
            "/api/v1/users/me",
            json={"password": weak, "current_password": account.password},
            headers=account.headers,
        )
        assert response.status_code == 422, weak
        [error] = response.json()["errors"]
        assert error["pointer"] == "#/password"
        assert reason in error["detail"]
    await client.login(account)  # the password did not change


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
