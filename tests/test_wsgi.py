"""The production entry point, as gunicorn loads it."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_loaded_application_is_kept_out_of_the_collectors_full_collections(tmp_path):
    # Without the freeze, every full collection walks the loaded application's objects in
    # the middle of a request (a 130 ms pause on the claim page every sixty requests).
    env = {**os.environ, "GRC_INSTANCE_PATH": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    frozen = subprocess.run(
        [sys.executable, "-c", "import gc, wsgi; print(gc.get_freeze_count())"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[-1]
    assert int(frozen) > 10_000


def test_the_loaded_application_leaves_pillow_until_a_photo_arrives(tmp_path):
    # Pillow and libheif weigh some 10 MB in every process; only photos need them.
    env = {**os.environ, "GRC_INSTANCE_PATH": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, wsgi; print(sorted({'PIL', 'pillow_heif'} & set(sys.modules)))",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")[-2]
    assert loaded == "[]"
