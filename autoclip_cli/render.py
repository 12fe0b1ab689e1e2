"""``autoclip render TEMPLATE.json [--modifications M.json] [--media-dir DIR] -o OUT.mp4``.

Renders a RenderScript template (a JSON file, or a built-in: short, long, square) with
the local ffmpeg engine. Prints progress, then the output's duration, size and render
time; exits 2 with the JSON path of the problem when the template is not renderable.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from autoclip_core.render.engine import FFmpegEngine, RenderError, RenderJob
from autoclip_core.render.engine_config import EngineConfig
from autoclip_core.render.renderscript import TemplateError
from autoclip_core.render.templates import build_render_script, load_template, read_json
from autoclip_core.settings import Settings


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="autoclip render", description=__doc__.split("\n")[2])
    parser.add_argument("template", help="template JSON file, or short / long / square")
    parser.add_argument("-o", "--output", required=True, type=Path, help="the mp4 to write")
    parser.add_argument("--modifications", type=Path, help='JSON {"Element.prop": value}')
    parser.add_argument(
        "--media-dir", type=Path, help="where relative sources are (default: the template's dir)"
    )
    parser.add_argument("--snapshot", type=Path, help="also write a PNG/JPEG preview frame")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    template_path = Path(args.template)
    media_dir = args.media_dir or (
        template_path.parent if template_path.suffix == ".json" else Path.cwd()
    )
    engine = FFmpegEngine(EngineConfig.from_settings(Settings()))
    shown = [-1]

    def progress(fraction: float) -> None:
        percent = int(fraction * 100)
        if percent // 5 > shown[0]:
            shown[0] = percent // 5
            print(f"\rrendering {args.output.name}: {percent:3d}%", end="", file=sys.stderr)

    try:
        modifications = read_json(args.modifications, "modifications") if args.modifications else {}
        if not isinstance(modifications, dict):
            raise TemplateError("modifications", "must be a JSON object of 'Element.prop': value")
        script = build_render_script(load_template(args.template), modifications)
        stats = engine.render(RenderJob(script, args.output, media_dir, args.snapshot), progress)
    except TemplateError as exc:
        print(f"autoclip render: invalid template: {exc}", file=sys.stderr)
        return 2
    except RenderError as exc:
        print(f"\nautoclip render: {exc}", file=sys.stderr)
        return 1
    print(file=sys.stderr)
    summary = {
        "output": str(args.output),
        "duration_s": round(stats.duration, 3),
        "size_bytes": stats.size_bytes,
        "render_s": round(stats.render_seconds, 2),
        "realtime_factor": round(stats.duration / max(stats.render_seconds, 1e-6), 2),
    }
    print(
        f"wrote {args.output}: {stats.duration:.2f} s of video, "
        f"{stats.size_bytes / 1e6:.1f} MB, rendered in {stats.render_seconds:.1f} s"
    )
    print(json.dumps(summary))
    return 0
