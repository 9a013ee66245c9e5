"""Real and simulated choice data sets in long format.

Real data (each a module with ``load()``, ``CITATION``, ``DESCRIPTION`` and ``COLUMNS``):

- :mod:`~mixlogit.datasets.electricity` - Huber & Train (2001) electricity suppliers, panel;
- :mod:`~mixlogit.datasets.swissmetro` - Bierlaire et al. (2001) Swissmetro mode choice;
- :mod:`~mixlogit.datasets.train` - Ben-Akiva et al. (1993) Dutch rail, panel;
- :mod:`~mixlogit.datasets.heating` - Train's California heating systems, cross-section.

Every ``load()`` returns one row per (choice situation, alternative) with at least the columns
``id`` (decision maker), ``chid`` (choice situation), ``alt`` (alternative label), ``choice``
(0/1, exactly one 1 per situation) and ``available`` (0/1), followed by the attributes.

Simulated data: :func:`simulate` (an alias of :func:`simulate_panel`; ``simulate`` is also the
module holding it) draws a latent-class conditional logit panel with a known truth, and
:func:`simulate_counts` the shared-candidate-set counts form.

Examples
--------
>>> import mixlogit.datasets as ds
>>> ds.list_datasets()
['electricity', 'heating', 'swissmetro', 'train']
>>> ds.electricity.load().shape
(17232, 11)
>>> ds.simulate(n_decision_makers=10, n_situations=2, n_alternatives=3, seed=0).data.shape
(60, 10)
"""
from __future__ import annotations

from . import electricity, heating, simulate, swissmetro, train
from .simulate import SimulatedCounts, SimulatedPanel, simulate_counts, simulate_panel

__all__ = [
    "electricity",
    "heating",
    "swissmetro",
    "train",
    "simulate",
    "simulate_panel",
    "simulate_counts",
    "SimulatedPanel",
    "SimulatedCounts",
    "list_datasets",
]

_DATASETS = {
    "electricity": electricity,
    "heating": heating,
    "swissmetro": swissmetro,
    "train": train,
}


def list_datasets() -> list[str]:
    """Names of the packaged real data sets, sorted.

    Each name is a submodule of :mod:`mixlogit.datasets` with a ``load()`` function and
    ``CITATION``, ``DESCRIPTION`` and ``COLUMNS`` attributes.

    Returns
    -------
    list of str
        ``['electricity', 'heating', 'swissmetro', 'train']``.

    Examples
    --------
    >>> import mixlogit.datasets as ds
    >>> for name in ds.list_datasets():
    ...     print(name, getattr(ds, name).load().shape)
    electricity (17232, 11)
    heating (4500, 11)
    swissmetro (20304, 18)
    train (5858, 10)
    """
    return sorted(_DATASETS)
