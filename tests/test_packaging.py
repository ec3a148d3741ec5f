"""The wheel holds one import package, `migagent`, that works from the wheel alone."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds a wheel

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "migagent"


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this checkout (without isolation), unzipped."""
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
    target = out / "site"
    zipfile.ZipFile(path).extractall(target)
    return target


def test_wheel_has_only_the_migagent_package(unpacked: Path) -> None:
    tops = {p.name for p in unpacked.iterdir() if not p.name.endswith(".dist-info")}
    assert tops == {"migagent"}


def test_wheel_ships_every_subpackage_and_prompt_file(unpacked: Path) -> None:
    shipped = {p.relative_to(unpacked / "migagent") for p in (unpacked / "migagent").rglob("*")}
    wanted = {
        p.relative_to(PACKAGE)
        for p in PACKAGE.rglob("*")
        if p.is_file()
        and "__pycache__" not in p.parts
        and (p.name == "__init__.py" or p.suffix in {".md", ".j2", ".txt"})
        and "cases_heldout" not in p.parts
    }
    assert wanted, "migagent/ holds packages and prompt files"
    assert wanted <= shipped, sorted(map(str, wanted - shipped))[:10]


def test_top_level_folders_are_views_of_the_package() -> None:
    for name in ("agent", "tools", "evals", "prompts"):
        assert (ROOT / name).resolve() == PACKAGE / name


def _run_from(site: Path, code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(site)!r}); {code}"],
        capture_output=True,
        text=True,
        cwd=cwd,
    )


def test_console_script_entry_point_runs_from_the_wheel(unpacked: Path, tmp_path: Path) -> None:
    """The declared entry point resolves in the unpacked wheel and prints the version."""
    (info,) = unpacked.glob("migagent-*.dist-info")
    entry = (info / "entry_points.txt").read_text()
    target = next(
        line.split("=", 1)[1].strip() for line in entry.splitlines() if "migagent" in line
    )
    module, func = target.split(":")
    code = (
        f"import {module} as m; import migagent; assert migagent.__file__.startswith({str(unpacked)!r}), "
        f"migagent.__file__; sys.argv = ['migagent', '--version']; m.{func}()"
    )
    done = _run_from(unpacked, code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("migagent ")


def test_bare_top_level_import_is_refused() -> None:
    """From the repo root `import agent` would be a second copy of every class: refused."""
    for name in ("agent", "tools", "evals", "prompts"):
        done = subprocess.run(
            [sys.executable, "-c", f"import {name}"], capture_output=True, text=True, cwd=ROOT
        )
        assert done.returncode != 0
        assert f"import migagent.{name}" in done.stderr
