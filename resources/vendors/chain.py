"""Fallback along an ordered chain of providers of one capability: the first that answers wins.

A provider that fails for good — a non-retryable error, or a retryable one after its own
retries — hands over to the next. When all fail, one error of the capability names each
failure; it is retryable when any of them was (so the run may try again later), with the
shortest ``Retry-After`` any of them asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from resources.errors import ProviderError
from resources.vendors.usage import report_answer

P = TypeVar("P")
T = TypeVar("T")
P_co = TypeVar("P_co", covariant=True)
C = TypeVar("C")


def first_that_answers(
    capability: str,
    providers: Sequence[tuple[str, P]],
    call: Callable[[P], T],
    *,
    error: type[ProviderError],
) -> tuple[T, str]:
    """``call(provider)`` for each (name, provider) in order; the first result and its name."""
    if not providers:
        raise ValueError(f"an empty {capability} chain")
    failures: list[tuple[str, ProviderError]] = []
    for name, provider in providers:
        try:
            result = call(provider)
        except ProviderError as failure:
            failures.append((name, failure))
            continue
        report_answer(capability, name, passed_over=[n for n, _ in failures])
        return result, name
    waits = [f.retry_after for _, f in failures if f.retryable and f.retry_after is not None]
    raise error(
        f"every {capability} provider failed: "
        + "; ".join(f"{name}: {failure}" for name, failure in failures),
        retryable=any(f.retryable for _, f in failures),
        retry_after=min(waits) if waits else None,
    )


class ChainLink(Protocol[P_co]):
    @property
    def names(self) -> list[str]: ...
    @property
    def first(self) -> P_co: ...
    @property
    def rest(self) -> P_co: ...


def linked(cls: Callable[..., C], providers: Sequence[tuple[str, Any]]) -> Any:
    """The chain of ``cls`` over ``providers`` as ``first`` + ``rest`` links (Dagster binds
    nested resources by field, not in lists); a single provider is returned as it is."""
    if not providers:
        raise ValueError("an empty chain")
    if len(providers) == 1:
        return providers[0][1]
    return cls(
        names=[name for name, _ in providers],
        first=providers[0][1],
        rest=linked(cls, providers[1:]),
    )


def unfold(chain: ChainLink[P]) -> list[tuple[str, P]]:
    """The (name, provider) pairs of a chain held as ``first`` + ``rest`` links, in order."""
    providers: list[P] = []
    node: Any = chain
    while isinstance(node, type(chain)):
        providers.append(node.first)
        node = node.rest
    providers.append(node)
    if len(providers) != len(chain.names):
        raise ValueError(f"{len(chain.names)} names for {len(providers)} providers")
    return list(zip(chain.names, providers, strict=True))
