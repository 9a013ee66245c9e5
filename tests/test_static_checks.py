"""The package, tests and benchmarks pass ruff, and the package passes mypy (issue 8, point 6).

Both tools run with the settings in ``pyproject.toml`` (ruff's rule selection and
per-file ignores; mypy's ``files = ["mixlogit"]`` and ``check_untyped_defs``), from
the repository root, so the suite (and so CI) fails on a new lint or type error.
Each test is skipped where its tool is not installed (both are in the ``test`` extra).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True, check=False)


def test_ruff_is_clean():
    pytest.importorskip("ruff")
    out = _run("ruff", "check", "--no-cache", "--output-format", "concise", "mixlogit", "tests", "benchmarks")
    assert out.returncode == 0, f"ruff check found problems:\n{out.stdout}{out.stderr}"


def test_mypy_is_clean():
    pytest.importorskip("mypy")
    out = _run("mypy")   # files and options from pyproject.toml; cached in .mypy_cache
    assert out.returncode == 0, f"mypy found problems:\n{out.stdout}{out.stderr}"
    assert "Success: no issues found" in out.stdout
