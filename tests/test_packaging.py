"""Packaging: every package folder is installed, the console scripts resolve, start-up is lazy."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# top-level folder -> the package name it is installed as
FOLDERS = {
    "pimdsl": "pimdsl",
    "dialects": "pimdsl.dialects",
    "passes": "pimdsl.passes",
    "tools": "pimdsl.tools",
}


def _packages_on_disk() -> set[str]:
    found = set()
    for folder, package in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            if "__pycache__" in init.parts:
                continue
            rel = init.parent.relative_to(ROOT / folder)
            found.add(".".join([package, *rel.parts]))
    return found


def test_every_package_folder_is_listed_in_pyproject() -> None:
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    missing = sorted(_packages_on_disk() - listed)
    assert not missing, f"add {missing} to [tool.setuptools] packages in pyproject.toml"


def test_listed_packages_exist() -> None:
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    assert listed <= _packages_on_disk()


def test_package_dir_mapping() -> None:
    mapping = PYPROJECT["tool"]["setuptools"]["package-dir"]
    assert mapping == {package: folder for folder, package in FOLDERS.items()}


def test_chip_presets_are_package_data() -> None:
    data = PYPROJECT["tool"]["setuptools"]["package-data"]["pimdsl"]
    assert "chips/*.toml" in data
    assert sorted((ROOT / "pimdsl" / "chips").glob("*.toml"))


def test_json_schemas_are_package_data() -> None:
    from pimdsl.schema import SCHEMAS

    data = PYPROJECT["tool"]["setuptools"]["package-data"]["pimdsl"]
    assert "schemas/*.json" in data
    assert sorted(p.name for p in (ROOT / "pimdsl" / "schemas").glob("*.json")) == sorted(
        f"{name}.schema.json" for name in SCHEMAS
    )


@pytest.mark.parametrize("script", sorted(PYPROJECT["project"]["scripts"]))
def test_console_scripts_resolve(script: str) -> None:
    module, function = PYPROJECT["project"]["scripts"][script].split(":")
    assert callable(getattr(importlib.import_module(module), function))


def test_version_runs() -> None:
    exe = shutil.which("pim-opt", path=str(Path(sys.executable).parent))
    assert exe is not None, "pim-opt is not installed next to this Python"
    proc = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("pim-opt (pimdsl ")


def test_version_does_not_import_xdsl_or_onnx() -> None:
    """What keeps `pim-opt --version` fast (timed in benchmarks, not here)."""
    code = (
        "import sys\n"
        "from pimdsl.tools.pim_opt import main\n"
        "assert main(['--version']) == 0\n"
        "heavy = sorted(m for m in ('xdsl', 'onnx', 'numpy') if m in sys.modules)\n"
        "print(heavy)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "[]"


def test_pyright_link_tree_mirrors_package_dir() -> None:
    # pyright resolves pimdsl.dialects/passes/tools through typings/pimdsl/<name> symlinks.
    for package, folder in PYPROJECT["tool"]["setuptools"]["package-dir"].items():
        if package == "pimdsl":
            continue
        link = ROOT / "typings" / Path(*package.split("."))
        assert link.is_symlink() and link.resolve() == (ROOT / folder).resolve(), (
            f"make {link.relative_to(ROOT)} a symlink to {folder}/ so pyright finds {package}"
        )
