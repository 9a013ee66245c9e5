"""Docstrings: every example runs, and every public name documents one.

The examples in the docstrings are run here, with their module's globals (as
``pytest --doctest-modules`` would), so the README's test command checks them;
the pages of the documentation run their own examples in the Sphinx doctest
builder (see ``.ci/run``).
"""
from __future__ import annotations

import doctest
import importlib
import inspect
import os
import pkgutil
import re
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

import mixlogit  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
API_PAGE = ROOT / "docs" / "api.rst"

#: modules whose import has side effects (``python -m mixlogit`` runs the command line)
SKIP_MODULES = {"mixlogit.__main__"}

#: public names (from docs/api.rst) whose docstring has no Examples section yet; each is a
#: documentation debt to pay off, and no new name may join this list.
KNOWN_WITHOUT_EXAMPLES: set[str] = set()


#: public by name but internal by purpose (results are built by ``fit``); exempt from the
#: docstring checks
INTERNAL = {"mixlogit.MixedMultinomialLogitResults.from_estimate"}


def package_modules() -> list[str]:
    names = ["mixlogit"]
    for info in pkgutil.walk_packages(mixlogit.__path__, prefix="mixlogit."):
        if info.name not in SKIP_MODULES:
            names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("module_name", package_modules())
def test_docstring_examples_run(module_name):
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    tests = [t for t in finder.find(module, module_name, globs=vars(module).copy())
             if t.examples]
    failures = []
    for test in tests:
        out: list[str] = []
        result = runner.run(test, out=out.append, clear_globs=True)
        if result.failed:
            failures.append("".join(out))
    assert not failures, "\n".join(failures)
    try:  # keep matplotlib figures from piling up across examples
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - matplotlib is in the test extras
        return
    plt.close("all")


def documented_names() -> list[str]:
    """Fully qualified names listed in the API reference page."""
    names, module = [], "mixlogit"
    for line in API_PAGE.read_text().splitlines():
        match = re.match(r"\.\. currentmodule:: ([\w.]+)", line)
        if match:
            module = match.group(1)
            continue
        match = re.match(r"   (\w[\w.]*)$", line)
        if match:
            names.append(f"{module}.{match.group(1)}")
    return names


def resolve(full_name: str):
    parts = full_name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
            break
        except ImportError:
            continue
    for part in parts[i:]:
        obj = getattr(obj, part)
    return obj


def public_objects():
    """(name, object) for every API-page name and the public methods of its classes."""
    for full in documented_names():
        obj = resolve(full)
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            continue  # errors and warnings: documented together in mixlogit.exceptions
        yield full, obj
        if inspect.isclass(obj):
            for name, member in vars(obj).items():
                if name.startswith("_") or isinstance(member, property):
                    continue
                func = member.__func__ if isinstance(member, (classmethod, staticmethod)) \
                    else member
                if callable(func) and f"{full}.{name}" not in INTERNAL:
                    yield f"{full}.{name}", func


def test_api_page_lists_the_package_exports():
    listed = {name.rsplit(".", 1)[-1] for name in documented_names()}
    missing = sorted(set(mixlogit.__all__) - listed - {"datasets"})
    assert not missing, f"add to docs/api.rst: {missing}"


def test_every_public_name_has_a_docstring():
    bare = [name for name, obj in public_objects() if not (inspect.getdoc(obj) or "").strip()]
    assert not bare, f"public names without a docstring: {bare}"


def test_every_public_name_has_an_example():
    without = sorted(name for name, obj in public_objects()
                     if "Examples\n--------" not in (inspect.getdoc(obj) or "")
                     and name not in KNOWN_WITHOUT_EXAMPLES)
    assert not without, (
        f"public names without an Examples section: {without}; add a short example that runs "
        "(it is executed by test_docstring_examples_run)")
