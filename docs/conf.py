"""Sphinx configuration of the mixlogit documentation.

Build with ``sphinx-build -W -b html docs docs/_build/html`` from the repository root; the
examples on the pages run with ``sphinx-build -W -b doctest docs docs/_build/doctest``.

Two things make the built site work without a network:

* **MathJax is served from the site itself.** Install it once with
  ``npm install --prefix docs/_mathjax mathjax@3`` (``.ci/run`` does); the build then copies
  the parts a page needs (``tex-chtml.js``, its fonts and TeX extensions, about 5 MB) into
  ``_static/mathjax/`` and the pages load it from there. Another MathJax 3 ``es5`` folder can
  be named with the environment variable ``MIXLOGIT_MATHJAX_DIR``. Without one the build
  still succeeds and the pages load MathJax from its CDN (math then needs a network); a note
  on the console says so (a note, not a Sphinx warning, so that ``-W`` does not fail).
* **The notebooks are rendered into the site** by myst-nb from ``docs/studies``, a link to
  the repository's ``notebooks/`` folder. They are executed during the HTML build
  (``nb_execution_mode = "force"``, errors fail the build); set ``MIXLOGIT_NB_EXECUTE=off``
  to render their stored outputs instead (``.ci/run`` does so for the doctest builder, which
  reads them again).
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

# the repository root (the package need not be installed to build the docs)
sys.path.insert(0, os.path.abspath(".."))
os.environ.setdefault("MPLBACKEND", "Agg")

import mixlogit  # noqa: E402

project = "mixlogit"
author = "the mixlogit developers"
copyright = "2026, the mixlogit developers"
version = release = mixlogit.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_nb",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "_mathjax", "Thumbs.db", ".DS_Store", "generated/*.bak",
                    "studies/.ipynb_checkpoints", "**/.ipynb_checkpoints"]
root_doc = "index"
default_role = "py:obj"

# --- autodoc / autosummary / numpydoc
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"          # the numpydoc Parameters sections carry the types
numpydoc_show_class_members = False  # members are listed explicitly on the API pages
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = True

# --- cross-references to other projects: not fetched during the build (offline CI), so
# intersphinx has no inventories and unresolved external types stay plain text
intersphinx_mapping: dict = {}
nitpicky = False

# --- doctest builder: the reST examples on the pages
doctest_global_setup = """
import importlib.util
import warnings
import numpy as np
import pandas as pd
import mixlogit as mx
pd.set_option("display.width", 100)
HAVE_DASK = all(importlib.util.find_spec(m) is not None for m in ("dask", "distributed"))
HAVE_NUMBA = importlib.util.find_spec("numba") is not None
"""
doctest_default_flags = 0
import doctest as _doctest  # noqa: E402

doctest_default_flags = (_doctest.ELLIPSIS | _doctest.NORMALIZE_WHITESPACE
                         | _doctest.DONT_ACCEPT_TRUE_FOR_1)

# --- HTML
html_theme = "alabaster"
html_static_path = ["_static"]
html_title = f"mixlogit {release}"
html_theme_options = {
    "description": "Latent-class logit models by warm-start EM",
    "fixed_sidebar": True,
}

# Docstring examples run in the test suite (tests/test_docstrings.py, with their module's
# globals); the doctest builder runs only the explicit ``.. doctest::`` blocks of these pages.
doctest_test_doctest_blocks = ""

# --- notebooks (myst-nb): docs/studies links to ../notebooks
source_suffix = {".rst": "restructuredtext", ".ipynb": "myst-nb"}
nb_execution_mode = os.environ.get("MIXLOGIT_NB_EXECUTE", "force")
nb_execution_timeout = 900
nb_execution_raise_on_error = True   # a failing cell fails the build
nb_execution_show_tb = True
nb_merge_streams = True
myst_enable_extensions = ["dollarmath"]

# --- MathJax served from _static (no network at view time)
_HERE = Path(__file__).resolve().parent
_MATHJAX_PARTS = ("tex-chtml.js", "input", "output/chtml", "a11y", "ui", "adaptors")


def _mathjax_source() -> Path | None:
    """The es5 folder of an installed MathJax 3, or None."""
    candidates = [os.environ.get("MIXLOGIT_MATHJAX_DIR", ""),
                  _HERE / "_mathjax" / "node_modules" / "mathjax" / "es5"]
    for folder in candidates:
        if folder and (Path(folder) / "tex-chtml.js").is_file():
            return Path(folder)
    return None


_MATHJAX = _mathjax_source()
if _MATHJAX is not None:
    mathjax_path = "mathjax/tex-chtml.js"   # relative to _static of the built site
else:
    print("mixlogit docs: note: no local MathJax (npm install --prefix docs/_mathjax "
          "mathjax@3); the pages will load MathJax from its CDN, so math needs a network",
          file=sys.stderr)


def _copy_mathjax(app, exception) -> None:
    """Copy the MathJax parts into the built site's _static/mathjax."""
    if exception is not None or _MATHJAX is None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    for part in _MATHJAX_PARTS:
        source, dest = _MATHJAX / part, target / part
        if source.is_dir():
            shutil.copytree(source, dest, dirs_exist_ok=True)
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest)


def setup(app):
    app.connect("build-finished", _copy_mathjax)
    return {"parallel_read_safe": True}
