"""The systemd units of the README's production section are well-formed and start what
the README says (``systemd-analyze verify``, against this checkout and its virtualenv)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.workers.conftest import ROOT

UNITS = ROOT / "deploy" / "systemd"
INSTANCES = (
    "grc-web.service",
    "grc-cron.service",
    "grc-notifications@1.service",
    "grc-inbound@1.service",
    "grc-default@1.service",
    "grc-exports@1.service",
    "grc.target",
)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd is not installed")
def test_the_units_are_well_formed(tmp_path: Path) -> None:
    venv_bin = Path(sys.executable).parent
    for unit in UNITS.iterdir():
        if unit.suffix in (".service", ".target"):
            text = unit.read_text().replace("/opt/grc/.venv/bin", str(venv_bin))
            (tmp_path / unit.name).write_text(text.replace("/opt/grc", str(ROOT)))
    checked = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *INSTANCES],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (checked.returncode, checked.stdout + checked.stderr) == (0, "")


def test_every_queue_has_a_restarting_unit() -> None:
    from workers.queues import EXPORTS, QUEUE_NAMES

    for queue in QUEUE_NAMES:
        unit = (UNITS / f"grc-{queue}@.service").read_text()
        expected = (
            "ExecStart=/opt/grc/.venv/bin/python -m workers.exports"
            if queue == EXPORTS
            else f"ExecStart=/opt/grc/.venv/bin/flask --app wsgi grc worker {queue}"
        )
        assert expected in unit
        assert "Restart=always" in unit
        assert "StartLimitIntervalSec=0" in unit  # never gives up restarting
