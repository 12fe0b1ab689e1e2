"""A fake of Creatomate's render API, written from its public documentation.

What the docs say and this fake does:

- ``POST /v2/renders`` with ``Authorization: Bearer <project key>`` and a RenderScript at
  the top level queues ONE render and answers 202 with the render object
  (``id``, ``status``, ``url``, ``output_format`` …). Without ``output_format`` a
  RenderScript renders a ``jpg``. ``GET /v2/renders/{id}`` answers the same object.
- A render goes ``planned`` → (``transcribing`` when a text element has a
  ``transcript_source``) → ``rendering`` → ``succeeded`` | ``failed`` (with an
  ``error_message``); here each state lasts ``polls_per_state`` status reads. ``url`` is
  known from the start but only serves the file once the render has succeeded; the
  finished render carries ``width``, ``height``, ``frame_rate``, ``duration`` and
  ``file_size``, and a ``snapshot_url`` only when the script set ``snapshot_time``.
- Media sources are fetched by Creatomate, so a source that is not an http(s) URL
  answering 200 makes the render fail with an ``error_message``.
- Failures answer a JSON body with a ``hint``: 401 for a wrong key, 400 for a body that is
  no RenderScript, 402 when the project is out of credits.
- ``webhook_url`` and ``metadata`` in the body (not RenderScript properties): the render
  object carries the ``metadata`` string, and as soon as the render succeeds or fails (here
  ``webhook_delay_s`` after it was posted, without waiting for status reads) Creatomate
  POSTs the render object to ``webhook_url`` (``drop_webhooks`` loses them instead).

The "render" is a real mp4 made by the bundled ffmpeg (a test pattern with a tone) at the
script's size, frame rate and duration, so probes and the safety post-check can read it.
Faults (``tests.fakes.faults``: 429, 503, stalls, resets, malformed JSON) are injected with
``fail_creates`` and ``fail_polls``.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tests.fakes.clips import make_mp4
from tests.fakes.faults import with_faults
from tests.fakes.server import FakeServer, Reply, Request

API_KEY = "test-creatomate-key"
DEFAULT_DURATION = 6.0


def json_reply(status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(
        status=status,
        body=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def _sources(elements: list[dict[str, Any]]) -> list[str]:
    found: list[str] = []
    for element in elements:
        if isinstance(element.get("source"), str):
            found.append(element["source"])
        found.extend(_sources(element.get("elements") or []))
    return found


def _loads(source: str) -> bool:
    """Whether Creatomate could fetch ``source``: an http(s) URL answering 200."""
    if urlsplit(source).scheme not in ("http", "https"):
        return False
    try:
        with urllib.request.urlopen(source, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def _transcribes(elements: list[dict[str, Any]]) -> bool:
    return any(
        e.get("transcript_source") or _transcribes(e.get("elements") or []) for e in elements
    )


@dataclass
class FakeRender:
    id: str
    script: dict[str, Any]
    states: list[str]
    error_message: str | None = None
    reads: int = 0
    metadata: str | None = None
    finished: bool = False
    """Reported to its webhook: in its final state whatever the reads."""


@dataclass
class FakeCreatomate:
    """Creatomate on a ``FakeServer``; ``renders`` holds what was posted, by id."""

    server: FakeServer
    api_key: str = API_KEY
    polls_per_state: int = 1
    credits: int = 100
    renders: dict[str, FakeRender] = field(default_factory=dict)
    downloads: int = 0
    webhook_delay_s: float = 0.2
    drop_webhooks: bool = False
    webhook_answers: list[int] = field(default_factory=list)
    """The status code each webhook call was answered with."""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _poll_faults: list[Reply] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.server.route("/v2/renders", self._create)

    @property
    def base_url(self) -> str:
        return self.server.base

    def fail_creates(self, *faults: Reply) -> None:
        """The next ``POST /v2/renders`` are answered by ``faults``, one each, in order."""
        self.server.route("/v2/renders", with_faults(self._create, faults))

    def fail_polls(self, *faults: Reply) -> None:
        """The first status reads of the next render are answered by ``faults``."""
        self._poll_faults = list(faults)

    def _authorised(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.api_key}"

    def _create(self, request: Request) -> Reply:
        if request.method != "POST":
            return json_reply(405, {"hint": "Method not allowed."})
        if not self._authorised(request):
            return json_reply(401, {"hint": "Invalid API key."})
        try:
            script = json.loads(request.body)
        except ValueError:
            return json_reply(400, {"hint": "The request body is not valid JSON."})
        if not isinstance(script, dict) or not isinstance(script.get("elements"), list):
            return json_reply(400, {"hint": "Provide a template_id or a RenderScript."})
        webhook_url, metadata = script.pop("webhook_url", None), script.pop("metadata", None)
        unreachable = [s for s in _sources(script["elements"]) if not _loads(s)]
        with self._lock:
            if self.credits <= 0:
                return json_reply(402, {"hint": "Your project has run out of credits."})
            self.credits -= 1
            render_id = str(uuid.uuid4())
            states = ["planned"]
            if _transcribes(script["elements"]):
                states.append("transcribing")
            states += ["rendering", "succeeded"]
            render = FakeRender(render_id, script, states, metadata=metadata)
            if unreachable:
                render.states[-1] = "failed"
                render.error_message = f"The source '{unreachable[0]}' could not be loaded."
            self.renders[render_id] = render
        self.server.route(f"/v2/renders/{render_id}", with_faults(self._status, self._poll_faults))
        self._poll_faults = []
        self.server.route(f"/renders/{render_id}.{self._format(render)}", self._file)
        if webhook_url is not None and not self.drop_webhooks:
            report = threading.Timer(self.webhook_delay_s, self._report, (render, webhook_url))
            report.daemon = True
            report.start()
        return json_reply(202, self._object(render, "planned"))

    def _report(self, render: FakeRender, webhook_url: str) -> None:
        """The render finishes and Creatomate calls its webhook with the render object."""
        with self._lock:
            render.finished = True
        body = json.dumps(self._object(render, render.states[-1])).encode()
        request = urllib.request.Request(
            webhook_url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                self.webhook_answers.append(response.status)
        except urllib.error.HTTPError as exc:
            self.webhook_answers.append(exc.code)

    @staticmethod
    def _format(render: FakeRender) -> str:
        return str(render.script.get("output_format") or "jpg")

    def _state(self, render: FakeRender) -> str:
        if render.finished:
            return render.states[-1]
        index = min(render.reads // self.polls_per_state, len(render.states) - 1)
        return render.states[index]

    def _object(self, render: FakeRender, status: str) -> dict[str, Any]:
        script = render.script
        body: dict[str, Any] = {
            "id": render.id,
            "status": status,
            "url": self.server.url(f"/renders/{render.id}.{self._format(render)}"),
            "output_format": self._format(render),
            "render_scale": 1,
        }
        if render.metadata is not None:
            body["metadata"] = render.metadata
        if status == "failed":
            body["error_message"] = render.error_message
        if status == "succeeded":
            body |= {
                "width": script.get("width"),
                "height": script.get("height"),
                "frame_rate": script.get("frame_rate", 30),
                "duration": self._duration(render),
                "file_size": len(self._video(render)),
            }
            if script.get("snapshot_time") is not None:
                body["snapshot_url"] = self.server.url(f"/snapshots/{render.id}.jpg")
        return body

    @staticmethod
    def _duration(render: FakeRender) -> float:
        """The script's ``duration``, else until the last top-level element with a known end
        (``time`` + ``duration``)."""
        if render.script.get("duration"):
            return float(render.script["duration"])
        ends = [
            float(e["time"]) + float(e["duration"])
            for e in render.script["elements"]
            if isinstance(e.get("time"), int | float) and isinstance(e.get("duration"), int | float)
        ]
        return max(ends, default=DEFAULT_DURATION)

    def _video(self, render: FakeRender) -> bytes:
        size = (int(render.script["width"]), int(render.script["height"]))
        key = (*size, float(render.script.get("frame_rate", 30)), self._duration(render))
        with self._lock:
            return make_mp4(*key)

    def _render_of(self, request: Request) -> FakeRender | None:
        name = request.path.rsplit("/", 1)[-1].split(".")[0]
        return self.renders.get(name)

    def _status(self, request: Request) -> Reply:
        if not self._authorised(request):
            return json_reply(401, {"hint": "Invalid API key."})
        render = self._render_of(request)
        if render is None:
            return json_reply(404, {"hint": "Render not found."})
        with self._lock:
            status = self._state(render)
            render.reads += 1
        return json_reply(200, self._object(render, status))

    def _file(self, request: Request) -> Reply:
        render = self._render_of(request)
        if render is None or self._state(render) != "succeeded":
            return Reply(status=404, body=b"not found")
        self.downloads += 1
        return Reply(body=self._video(render), headers={"Content-Type": "video/mp4"})
