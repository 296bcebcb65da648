"""The contractor channel is a library: it imports nothing from the application."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import contractors

APPLICATION = {"grc", "workers", "notifications", "flask", "werkzeug", "sqlalchemy", "rq"}


def test_no_module_of_the_package_imports_the_application() -> None:
    imported: dict[str, set[str]] = {}
    for path in sorted(Path(contractors.__file__).parent.glob("*.py")):
        names = imported.setdefault(path.name, set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])

    assert "contractors" in imported["reading.py"]  # the walk did see the package's own imports
    assert {
        name: found & APPLICATION for name, found in imported.items() if found & APPLICATION
    } == {}


def test_importing_every_module_loads_nothing_of_the_application() -> None:
    code = (
        "import sys, contractors.mail, contractors.posts, contractors.reading, contractors._dates,"
        " contractors.survey_answers;"
        f"print(sorted(set({sorted(APPLICATION)!r}) & {{m.split('.')[0] for m in sys.modules}}))"
    )
    root = Path(contractors.__file__).parent.parent
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
