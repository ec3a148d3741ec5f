"""The wheel holds one import package, `migagent`, with every subpackage and prompt file."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PACKAGE_DIR: dict[str, str] = PYPROJECT["tool"]["setuptools"]["package-dir"]


def _package_folders() -> set[str]:
    """Every folder with an __init__.py under a mapped root, as a dotted name."""
    found = set()
    for package, folder in PACKAGE_DIR.items():
        root = ROOT / folder
        for init in root.rglob("__init__.py"):
            rel = init.parent.relative_to(root)
            if "cases" in rel.parts or ".venv" in rel.parts:
                continue
            found.add(".".join([package, *rel.parts]) if rel.parts else package)
    return found


def test_every_package_folder_is_listed_in_pyproject() -> None:
    missing = _package_folders() - set(PYPROJECT["tool"]["setuptools"]["packages"])
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(missing)}"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("migagent-*.whl")
    return zipfile.ZipFile(path)


def test_wheel_has_only_the_migagent_package(wheel: zipfile.ZipFile) -> None:
    tops = {name.split("/")[0] for name in wheel.namelist()}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"migagent"}


def test_wheel_ships_prompts_and_subpackages(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for package in PYPROJECT["tool"]["setuptools"]["packages"]:
        assert package.replace(".", "/") + "/__init__.py" in names
    prompt_files = {
        "migagent/prompts/" + str(p.relative_to(ROOT / "prompts"))
        for p in (ROOT / "prompts").rglob("*")
        if p.is_file() and p.suffix in {".md", ".j2", ".txt"}
    }
    assert prompt_files, "prompts/ holds the prompt files"
    assert prompt_files <= names


def test_console_script_points_at_main() -> None:
    assert PYPROJECT["project"]["scripts"]["migagent"] == "migagent.cli:main"
