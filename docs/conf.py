"""Sphinx configuration of the mixlogit documentation.

Build with ``sphinx-build -W -b html docs docs/_build/html`` from the repository root; the
examples on the pages run with ``sphinx-build -W -b doctest docs docs/_build/doctest``.
"""
from __future__ import annotations

import os
import sys

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
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "generated/*.bak"]
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
import warnings
import numpy as np
import pandas as pd
import mixlogit as mx
pd.set_option("display.width", 100)
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
