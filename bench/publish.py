"""Upload throughput of the publishers against their fakes (tests/fakes/), on loopback.

YouTube: one ``--size-mb`` file (random bytes) published through ``YouTubePublisher`` to the
fake YouTube (resumable session, ``--chunk-mib`` chunks, thumbnail), ``--runs`` times each:

- clean: no fault;
- cut: the connection cut at ``--cuts`` random byte offsets per run; each cut is resumed from
  the 308's Range. Printed per run: the cut offsets, the offsets the upload went on from, the
  bytes re-sent (that reached the fake twice) and the bytes our client put in PUT bodies (a
  cut chunk counts whole, though only its start left before the cut).

Every run checks the fake's stored bytes against the file's sha256. MB/s is the file's size
over the wall time of ``publish`` (token refresh, session start, chunks, thumbnail; with cuts
also the back-off waits, 0.05 s base here, reported as ``backoff_s``). The fake
keeps what it receives in memory and hashes nothing on the way: this measures our client and
a loopback HTTP server, not YouTube's network.

TikTok: a real mp4 grown to ``--size-mb`` (a trailing ``free`` box of random bytes, so the
publisher's duration probe reads it) published through ``TikTokPublisher`` to the fake TikTok
(creator info, Direct Post init, ``FILE_UPLOAD`` in 10 MB chunks, status), ``--runs`` times:

- clean: no fault;
- cut: the connection reset on one random chunk until the attempt gives up (2 tries, so the
  back-off costs at most a second: ``backoff_s``), then ``publish`` run again with the same
  journal, as a retried step would. Printed: where it was cut, where the second attempt went on
  from (the ``uploaded_bytes`` status/fetch reported), the bytes TikTok got twice and the bytes
  our client put in PUT bodies (the reset chunk's tries count whole), and how many videos the
  fake holds for the item (exactly one, with the file's sha256).

MB/s: the file's size over the wall time of the ``publish`` calls (both attempts when cut).

Last line: JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from resources.publisher.base import ChannelAccount, ChannelSettings, PublishRequest
from resources.publisher.tiktok import TikTokPublisher
from resources.publisher.tiktok_api import TikTokError
from resources.publisher.youtube import CHUNK_UNIT, YouTubePublisher
from tests.fakes.faults import reset
from tests.fakes.net import running_server
from tests.fakes.publishing import MemoryJournal, MemoryTokenStore
from tests.fakes.tiktok import UPLOAD_PATH, FakeTikTok, mp4_of_size
from tests.fakes.youtube_api import CLIENT_ID, CLIENT_SECRET, running_fake_youtube

MB = 1_000_000


def media(folder: Path, size: int, seed: int) -> tuple[Path, Path, str]:
    video = folder / "bench.mp4"
    video.write_bytes(random.Random(seed).randbytes(size))
    thumbnail = folder / "bench.jpg"
    thumbnail.write_bytes(b"\xff\xd8\xff\xe0" + bytes(20_000))
    return video, thumbnail, hashlib.sha256(video.read_bytes()).hexdigest()


def summary(platform: str, scenario: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians of one scenario's runs (each checked against the file's sha256 already)."""
    result = {
        "mb_s_median": round(statistics.median(r["mb_s"] for r in runs), 1),
        "seconds_median": round(statistics.median(r["seconds"] for r in runs), 3),
        "sha256_ok": True,
        "runs": runs,
    }
    print(f"{platform} {scenario}: median {result['mb_s_median']} MB/s", flush=True)
    return result


def youtube(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    size = int(args.size_mb * MB)
    video, thumbnail, digest = media(folder, size, args.seed)
    rng = random.Random(args.seed)
    result: dict[str, Any] = {"size_bytes": size, "chunk_bytes": args.chunk_mib * 1024 * 1024}
    for scenario in ("clean", "cut"):
        runs: list[dict[str, Any]] = []
        for run in range(args.runs):
            with running_fake_youtube() as api:
                publisher = YouTubePublisher(
                    base_url=api.base,
                    oauth_base_url=api.base,
                    client_id=CLIENT_ID,
                    client_secret=CLIENT_SECRET,
                    chunk_size=args.chunk_mib * 4 * CHUNK_UNIT,
                    backoff_base_s=0.05,
                )
                waited: list[float] = []

                def sleep(seconds: float, waited: list[float] = waited) -> None:
                    waited.append(seconds)
                    time.sleep(seconds)

                publisher.waiting_with(sleep)
                account = ChannelAccount(
                    slug="bench",
                    platform="youtube",
                    tokens=MemoryTokenStore(refresh_token=api.grant_refresh_token()),
                )
                request = PublishRequest(
                    content_id=f"bench-{scenario}-{run}",
                    channel="bench",
                    video=video,
                    thumbnail=thumbnail,
                    title="Bench upload",
                    description="",
                    hashtags=[],
                    language="en",
                )
                cuts = sorted(rng.sample(range(1, size), args.cuts)) if scenario == "cut" else []
                api.cut_at(*cuts)
                journal = MemoryJournal()
                started = time.perf_counter()
                receipt = publisher.publish(request, account, journal)
                seconds = time.perf_counter() - started
                stored = api.videos[receipt.platform_id or ""]
                if stored.sha256 != digest or len(api.videos) != 1:
                    raise SystemExit(f"youtube {scenario} run {run}: the fake's bytes differ")
                row = {
                    "seconds": round(seconds, 3),
                    "mb_s": round(size / MB / seconds, 1),
                    "cut_at": api.cuts,
                    "resumed_from": journal.values["resumed_from"],
                    "bytes_resent": api.upload_bytes_received - size,
                    "bytes_put": journal.values["bytes_put"],
                    "backoff_s": round(sum(waited), 3),
                    "requests": len(api.log),
                }
                runs.append(row)
                print(f"youtube {scenario} run {run + 1}: {json.dumps(row)}", flush=True)
        result[scenario] = summary("youtube", scenario, runs)
    return result


def tiktok(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    size = int(args.size_mb * MB)
    video = folder / "bench-tiktok.mp4"
    video.write_bytes(mp4_of_size(size, args.seed))
    digest = hashlib.sha256(video.read_bytes()).hexdigest()
    rng = random.Random(args.seed)
    result: dict[str, Any] = {"size_bytes": size}
    for scenario in ("clean", "cut"):
        runs: list[dict[str, Any]] = []
        for run in range(args.runs):
            with running_server() as server:
                fake = FakeTikTok(server, processing_polls=0)
                publisher = TikTokPublisher(
                    client_key=fake.client_key,
                    client_secret=fake.client_secret,
                    base_url=server.base,
                    poll_interval_s=0.05,
                    attempts=2,
                )
                waited: list[float] = []

                def sleep(seconds: float, waited: list[float] = waited) -> None:
                    waited.append(seconds)
                    time.sleep(seconds)

                publisher.on_clock(time.time, sleep)
                account = ChannelAccount(
                    slug="bench",
                    platform="tiktok",
                    settings=ChannelSettings(audited=True, privacy="public"),
                    tokens=MemoryTokenStore(refresh_token=fake.grant()),
                )
                request = PublishRequest(
                    content_id=f"bench-{scenario}-{run}",
                    channel="bench",
                    video=video,
                    thumbnail=video,
                    title="Bench upload",
                    description="",
                    hashtags=[],
                    language="en",
                )
                chunk = publisher.chunk_size
                cut = rng.randrange(1, size // chunk) if scenario == "cut" else None
                if cut is not None:
                    fake.upload_faults[cut] = [reset()] * publisher.attempts
                journal = MemoryJournal()
                started = time.perf_counter()
                resumed_from = None
                try:
                    receipt = publisher.publish(request, account, journal)
                except TikTokError:
                    [post] = fake.posts.values()
                    resumed_from = len(post.data)
                    receipt = publisher.publish(request, account, journal)
                seconds = time.perf_counter() - started
                posts = fake.published()
                if len(fake.posts) != 1 or [p.sha256 for p in posts] != [digest]:
                    raise SystemExit(f"tiktok {scenario} run {run}: not one video of the file")
                received = sum(last - first + 1 for _, first, last in fake.upload_puts)
                row = {
                    "seconds": round(seconds, 3),
                    "mb_s": round(size / MB / seconds, 1),
                    "cut_at": cut * chunk if cut is not None else None,
                    "resumed_from": resumed_from,
                    "bytes_resent": received - size,
                    "bytes_put": sum(len(r.body) for r in server.hits(UPLOAD_PATH)),
                    "backoff_s": round(sum(waited), 3),
                    "videos": len(fake.posts),
                    "post_id": receipt.platform_id,
                    "requests": len(server.requests),
                }
                runs.append(row)
                print(f"tiktok {scenario} run {run + 1}: {json.dumps(row)}", flush=True)
        result[scenario] = summary("tiktok", scenario, runs)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=float, default=50.0, help="File size in MB (10^6).")
    parser.add_argument("--chunk-mib", type=int, default=8, help="Chunk size in MiB.")
    parser.add_argument("--cuts", type=int, default=5, help="Cuts per run in the cut scenario.")
    parser.add_argument("--runs", type=int, default=3, help="Runs per scenario.")
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp:
        summary = {"youtube": youtube(args, Path(tmp)), "tiktok": tiktok(args, Path(tmp))}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
