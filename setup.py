"""Packages of the yzmap wheel; everything else is in pyproject.toml.

``data/boundaries/`` stays at the top of the repo (the source of truth the build scripts check),
and goes into the wheel and sdist as the package data of ``geo.shipped``: a folder outside the
packages can only be mapped with ``package_dir``, which needs the package listed explicitly, and
pyproject.toml cannot add one package to what ``packages.find`` discovers.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=find_namespace_packages(include=["geo*", "webmap*"]) + ["geo.shipped"],
    package_dir={"geo.shipped": "data/boundaries"},
)
