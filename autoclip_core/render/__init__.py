"""The render engine: a RenderScript template (Creatomate's JSON format) → an H.264/AAC mp4,
drawn by one ffmpeg filter graph. Imports neither Dagster nor the database.

* ``renderscript`` — the supported subset as pydantic models; ``TemplateError``
* ``templates`` (+ ``builtin_templates/``) — built-in and user templates, modifications
* ``timeline`` — elements placed in time and space; ``media_sources`` — sources → checked files
* ``stills`` — text, shapes and images drawn with Pillow; ``text_layout``, ``fonts``, ``colors``
* ``zoom`` — the sub-pixel Ken Burns zoom; ``video_graph`` — the whole ffmpeg video graph
* ``captions`` — word timings (the transcript sidecar) → libass events; ``ass_subtitles``
* ``audio_mix`` — mixing, ducking, loudness; ``music`` — synthesised background music
* ``engine`` — ``FFmpegEngine``: runs a ``RenderJob`` with an ``EngineConfig`` (``engine_config``)
* ``ffmpeg_binary`` — the bundled ffmpeg, run with progress; ``probe`` — media inspection
"""
