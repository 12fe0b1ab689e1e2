"""The Gemini resource leaves the google-genai SDK unimported until it calls Gemini: every
process that loads the pipeline (each run worker) imports the resource, few call Gemini."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_resource_leaves_the_sdk_unimported() -> None:
    probe = "import sys, resources.llm.gemini; print('google.genai' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "False"
