"""The local renderer: RenderScript → one ffmpeg filter graph → mp4 (``engine``), and its
Dagster resource (``renderer``). Import them from their modules: the engine alone keeps the
``autoclip render`` command free of Dagster."""
