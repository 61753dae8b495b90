"""Package list for setuptools: nncs, plus the repository's plants/, controllers/ and case_studies/ folders
installed under the nncs namespace (nncs.plants, ...), editable installs included. Everything else is in
pyproject.toml."""

from setuptools import find_packages, setup

BUNDLED = ("plants", "controllers", "case_studies")
"""Top-level folders of the repository that are installed as subpackages of nncs."""

packages = find_packages(include=["nncs", "nncs.*"])
package_dir = {}
for folder in BUNDLED:
    for name in find_packages(include=[folder, f"{folder}.*"]):
        packages.append(f"nncs.{name}")
        package_dir[f"nncs.{name}"] = name.replace(".", "/")

setup(packages=packages, package_dir=package_dir)
