"""Where shipped models are searched: the installed copy and a source checkout only."""

from __future__ import annotations

from pathlib import Path

from potentials.model.registry import PACKAGE_DIRECTORY, shipped_model_directories


def make_directories(root: Path, *names: str) -> None:
    for name in names:
        (root / name).mkdir(parents=True)


def test_installed_copy_only_not_a_foreign_site_packages_directory(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    make_directories(site, "potentials/trained_models", "trained_models")
    directories = shipped_model_directories(site / "potentials")
    assert directories == [site / "potentials" / "trained_models"]


def test_source_checkout_is_recognised_by_its_pyproject(tmp_path: Path) -> None:
    make_directories(tmp_path, "potentials", "trained_models")
    assert shipped_model_directories(tmp_path / "potentials") == []
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'potentials'\n")
    assert shipped_model_directories(tmp_path / "potentials") == [tmp_path / "trained_models"]


def test_package_directory_is_the_potentials_package() -> None:
    assert (PACKAGE_DIRECTORY / "model" / "registry.py").is_file()
