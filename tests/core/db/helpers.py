from __future__ import annotations

from autoclip_core.schemas import SourceItem


def item(n: int, project: str = "news", **extra: object) -> SourceItem:
    return SourceItem(
        id=f"{project}-{n:012d}", project=project, source="feed", url=f"https://ex.com/{n}",
        title=f"Story {n}", text=f"Text {n}.", **extra,  # type: ignore[arg-type]
    )  # fmt: skip
