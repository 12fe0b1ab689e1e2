"""The drop folder: items pushed as files, for setups without the API (the API's signed
webhook, ``autoclip_core.ingest.webhook``, is the networked way to push items).

Drop a JSON file in the folder (write it under another name, then rename it to
``*.json``, so a half-written file is never read): one item object, a list of them, or
``{"items": [...]}``, with the fields of the source's mapping (by default ``id``, ``title``,
``text``, ``url``, ``published_at``). After its items are registered (or found to be
duplicates) a file moves to ``processed/``; a file that cannot be read moves to
``failed/`` next to a ``.error.txt`` saying why, and the source shows the reason.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from autoclip_core.ingest.config import DropFolderSource
from autoclip_core.ingest.json_api import map_item, resolve
from autoclip_core.ingest.poll import Candidate, PollContext, PollResult, SourceError
from autoclip_core.ingest.state import SourceState

PROCESSED = "processed"
FAILED = "failed"
MAX_FILES_PER_POLL = 200


def _unique_target(folder: Path, name: str, now: datetime) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if target.exists():
        target = folder / f"{now:%Y%m%dT%H%M%S%f}-{name}"
    return target


def move_aside(path: Path, folder: Path, now: datetime, error: str | None = None) -> Path:
    target = _unique_target(folder, path.name, now)
    shutil.move(str(path), target)
    if error is not None:
        target.with_name(target.name + ".error.txt").write_text(error + "\n", encoding="utf-8")
    return target


def _raw_items(data: Any, items_path: str) -> list[Any]:
    if items_path:
        found = resolve(data, items_path)
        if not isinstance(found, list):
            raise ValueError(f"no list at {items_path!r}")
        return found
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        return data["items"]
    return [data]


def poll_drop_folder(source: DropFolderSource, state: SourceState, ctx: PollContext) -> PollResult:
    folder = Path(source.path).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SourceError(f"drop folder {folder} cannot be created: {exc}") from exc
    if not folder.is_dir():
        raise SourceError(f"drop folder {folder} is not a folder")
    files = sorted(
        (p for p in folder.iterdir() if p.suffix.lower() == ".json" and not p.name.startswith(".")),
        key=lambda p: (p.lstat().st_mtime, p.name),
    )[:MAX_FILES_PER_POLL]
    result = PollResult()
    ids_of_file: dict[Path, list[str]] = {}
    for path in files:
        try:
            if path.is_symlink() or not path.is_file():
                raise ValueError("not a regular file (symlinks are not read)")
            size = path.stat().st_size
            if size > ctx.limits.max_drop_file_bytes:
                raise ValueError(f"larger than {ctx.limits.max_drop_file_bytes} bytes")
            data = json.loads(path.read_bytes().decode("utf-8-sig"))
            raws = _raw_items(data, source.mapping.items)
            items = [
                map_item(
                    raw,
                    source.mapping,
                    project=ctx.project,
                    source_id=ctx.source_id,
                    source=str(path),
                    base_url="",
                    fallback_key=True,
                )
                for raw in raws
            ]
            usable = [item for item in items if item is not None]
            if not usable:
                raise ValueError("no item with a title or text")
        except (OSError, ValueError, UnicodeDecodeError, RecursionError) as exc:
            reason = f"{path.name}: {type(exc).__name__}: {exc}"
            try:
                move_aside(path, folder / FAILED, ctx.now, reason)
            except OSError as move_error:
                reason += f" (and it could not be moved aside: {move_error})"
            result.notes.append(reason)
            continue
        skipped = len(items) - len(usable)
        if skipped:
            result.notes.append(f"{path.name}: {skipped} entries without title/text skipped")
        ids_of_file[path] = [item.id for item in usable]
        result.candidates.extend(Candidate(item) for item in usable)

    def commit(handled: set[str]) -> list[str]:
        notes: list[str] = []
        for path, ids in ids_of_file.items():
            if not set(ids) <= handled:
                continue  # some items still pending: the file stays for the next poll
            try:
                move_aside(path, folder / PROCESSED, ctx.now)
            except OSError as exc:
                notes.append(f"{path.name}: processed but not moved: {exc}")
        return notes

    result.commit = commit
    return result
