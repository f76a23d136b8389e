"""The house stays straight: imports point down the floors, never up (docs/architecture.md).

Walks every product module with ``ast``, including imports inside functions (the CLI and the flows
import lazily), and fails on an import that climbs a floor, crosses between two stages, or pulls an
orchestrator, web or ORM library into a floor that must not know it.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Floor of each top-level package. A package may import its own floor's core (koe) and lower floors.
FLOORS: dict[str, int] = {
    "koe": 0,
    # stages: pure functions over records; they may import only the core
    "transcribe": 1,
    "textmining": 1,
    "insights": 1,
    "models": 2,
    "flows": 3,
    "api": 4,
    "cli": 5,
}
STAGE_FLOOR = 1
#: Third-party packages a floor must not import (and every floor below it neither).
FORBIDDEN: dict[int, tuple[str, ...]] = {
    0: ("prefect", "prefect_dask", "fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic", "typer"),
    1: ("prefect", "prefect_dask", "fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic", "typer"),
    2: ("prefect", "prefect_dask", "fastapi", "starlette", "uvicorn", "typer"),
    3: ("fastapi", "starlette", "uvicorn", "typer"),
    4: ("typer",),
}
#: Outside ``models/`` a SQLAlchemy ``Session`` may be held and passed on (callers own the
#: transaction), but no query, table, row or SQLAlchemy exception.
SESSION_ONLY = {"sqlalchemy.orm": {"Session"}}


def _packages() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return [p.rstrip("*") for p in config["tool"]["setuptools"]["packages"]["find"]["include"]]


def _modules() -> list[Path]:
    return sorted(
        path
        for package in _packages()
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, module, imported names) for every absolute import in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module, [alias.name for alias in node.names]))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", None) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):  # a module named in the code is imported; entry points read from a file may be loaded
            found.append((node.lineno, "importlib.import_module", []))
    return found


def violations(path: Path) -> list[str]:
    """Every import in ``path`` that breaks the floors, as ``file:line: reason``."""
    package = path.relative_to(ROOT).parts[0]
    floor = FLOORS[package]
    where = path.relative_to(ROOT)
    out = []
    for line, module, names in _imports(path):
        top = module.split(".")[0]
        if module == "importlib.import_module":
            out.append(f"{where}:{line}: loads a module by name; import it, so mypy and this test see it")
        elif package != "models" and (top == "sqlalchemy" or module.startswith("models.tables")):
            allowed = SESSION_ONLY.get(module)
            if allowed is None or not set(names) <= allowed:
                out.append(f"{where}:{line}: {module} outside models/ (ORM and SQLAlchemy stay in models)")
        elif top in FLOORS and top != package:
            if FLOORS[top] > floor:
                out.append(f"{where}:{line}: {package} (floor {floor}) imports {module} (floor {FLOORS[top]})")
            elif FLOORS[top] == floor == STAGE_FLOOR:
                out.append(f"{where}:{line}: stage {package} imports stage {top}; pass records between them")
        elif any(top == banned for f in range(floor, 5) for banned in FORBIDDEN.get(f, ())):
            out.append(f"{where}:{line}: {package} must not import {module}")
    return out


def test_every_product_package_has_a_floor() -> None:
    assert set(_packages()) == set(FLOORS), "give a new top-level package its floor in FLOORS"


def test_no_import_climbs_a_floor() -> None:
    found = [v for path in _modules() for v in violations(path)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    ("package", "source", "expected"),
    [
        ("koe", "from models.db import transaction\n", "floor 0) imports models.db"),
        ("textmining", "def f():\n    from flows import process\n", "imports flows"),
        ("insights", "import textmining.tokens\n", "imports stage textmining"),
        ("flows", "from models.tables import Call\n", "outside models/"),
        ("api", "from sqlalchemy import select\n", "outside models/"),
        ("models", "import prefect\n", "must not import prefect"),
        ("api", "import importlib\nimportlib.import_module('models.summaries')\n", "by name"),
    ],
)
def test_the_check_catches_what_it_forbids(tmp_path: Path, package: str, source: str, expected: str, monkeypatch) -> None:
    fake_root = tmp_path
    (fake_root / package).mkdir()
    module = fake_root / package / "bad.py"
    module.write_text(source, encoding="utf-8")
    monkeypatch.setattr(__import__(__name__), "ROOT", fake_root)
    assert any(expected in v for v in violations(module))


def test_allowed_imports_pass(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "flows").mkdir()
    module = tmp_path / "flows" / "ok.py"
    module.write_text("from sqlalchemy.orm import Session\nfrom models.db import transaction\nfrom koe.records import Transcript\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    assert violations(module) == []
