"""Simulated latent-class conditional logit data with a known truth.

Two generators:

* :func:`simulate_panel` draws long-format panel data (decision makers x choice situations x
  alternatives) from a finite mixture of conditional logits, optionally with class-membership
  covariates, class-invariant attributes and random availability;
* :func:`simulate_counts` draws the "counts" form, in which every draw chooses from one shared
  set of candidates and only the number of times each candidate was chosen is recorded.

Both are fully vectorised (no Python loop over rows, situations or decision makers) and take a
``seed`` (int, None, SeedSequence or :class:`numpy.random.Generator`).

The module itself is callable: ``mixlogit.datasets.simulate(**kwargs)`` is
``simulate_panel(**kwargs)``, so ``mixlogit.datasets.simulate`` works both as the function and
as the module holding :func:`simulate_panel` and :func:`simulate_counts`.
"""
from __future__ import annotations

import sys
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from ..exceptions import SpecificationError

__all__ = [
    "DEFAULT_BETAS",
    "DEFAULT_SHARES",
    "SimulatedPanel",
    "SimulatedCounts",
    "simulate_panel",
    "simulate_counts",
    "default_betas",
]

#: Default truth (K = 3 classes x L = 5 attributes) used when ``betas`` is None.
DEFAULT_BETAS = np.array(
    [
        [1.0, -1.0, 0.5, 0.0, -0.5],
        [-1.0, 1.0, 0.0, 0.5, 1.0],
        [0.5, 0.5, -1.5, 1.0, 0.0],
    ]
)
DEFAULT_BETAS.setflags(write=False)

#: Default class shares used with :data:`DEFAULT_BETAS`.
DEFAULT_SHARES = np.array([0.5, 0.3, 0.2])
DEFAULT_SHARES.setflags(write=False)


def default_betas(n_attributes: int = 5) -> np.ndarray:
    """Default K = 3 truth for ``n_attributes`` attributes.

    Column ``l`` is column ``l % 5`` of :data:`DEFAULT_BETAS`, with its sign flipped for
    ``5 <= l < 10``, ``15 <= l < 20``, ... so that the classes stay well separated for any
    number of attributes.

    Parameters
    ----------
    n_attributes : int, default 5
        Number of attributes L (at least 1).

    Returns
    -------
    numpy.ndarray
        Array of shape ``(3, n_attributes)``.

    Examples
    --------
    >>> from mixlogit.datasets.simulate import default_betas
    >>> default_betas(2)
    array([[ 1. , -1. ],
           [-1. ,  1. ],
           [ 0.5,  0.5]])
    """
    n_attributes = _positive_int(n_attributes, "n_attributes")
    cols = np.arange(n_attributes)
    sign = np.where((cols // 5) % 2 == 0, 1.0, -1.0)
    return DEFAULT_BETAS[:, cols % 5] * sign


# ----------------------------------------------------------------------------------------------
# results
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class SimulatedPanel:
    """Simulated long-format latent-class panel and the truth that generated it.

    Attributes
    ----------
    data : pandas.DataFrame
        Long data, one row per (choice situation, alternative), sorted by ``chid`` then ``alt``:
        ``id`` (decision maker, 1..N), ``chid`` (situation, 1..N*T, unique overall), ``alt``
        (ordered categorical 1..J), ``choice`` (0/1, one 1 per situation, always on an
        available row), ``available`` (0/1), the class-specific attributes
        (``attribute_names``), then the class-invariant attributes (``invariant`` keys) and the
        membership covariates (``membership_names``, constant within decision maker).
    classes : numpy.ndarray
        True class (0..K-1) of each decision maker, shape ``(N,)``; decision maker ``id == n``
        is ``classes[n - 1]``.
    betas : numpy.ndarray
        True class-specific coefficients, shape ``(K, L)``.
    shares : numpy.ndarray
        Class shares, shape ``(K,)``. Without membership covariates these are the class
        probabilities of every decision maker; with them they are the class probabilities at
        ``z = 0`` (the membership intercepts are ``log(shares / shares[0])``).
    attribute_names : tuple of str
        Names of the class-specific attribute columns (``x1 ... xL``).
    invariant : dict
        Class-invariant attribute name -> its coefficient (the same in every class).
    membership : numpy.ndarray or None
        Membership coefficients ``gamma``, shape ``(K, M)``, first row zero; None without
        membership covariates.
    membership_names : tuple of str
        Names of the membership covariate columns (empty without them).
    class_probabilities : numpy.ndarray
        Prior class probabilities of each decision maker, shape ``(N, K)``; the expected
        class frequencies are ``class_probabilities.mean(axis=0)``.

    Examples
    --------
    >>> import mixlogit as mx
    >>> sim = mx.datasets.simulate.simulate_panel(n_decision_makers=50, seed=0)
    >>> sim.betas.shape, sim.classes.shape
    ((3, 5), (50,))
    """

    data: pd.DataFrame
    classes: np.ndarray
    betas: np.ndarray
    shares: np.ndarray
    attribute_names: tuple[str, ...]
    invariant: dict[str, float] = field(default_factory=dict)
    membership: np.ndarray | None = None
    membership_names: tuple[str, ...] = ()
    class_probabilities: np.ndarray | None = None

    @property
    def n_classes(self) -> int:
        """Number of latent classes K."""
        return int(self.betas.shape[0])

    @property
    def n_decision_makers(self) -> int:
        """Number of decision makers N."""
        return int(self.classes.shape[0])

    def true_params(self) -> dict[str, Any]:
        """The truth as labelled pandas objects.

        Returns
        -------
        dict
            ``"betas"``: DataFrame (classes x attributes); ``"shares"``: Series over classes;
            ``"invariant"``: Series over the class-invariant attributes (possibly empty);
            ``"membership"``: DataFrame (classes x [``Intercept`` + covariates]) with the
            intercepts ``log(shares / shares[0])`` and ``gamma``, or None.

        Examples
        --------
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(n_decision_makers=50, seed=0)
        >>> truth = sim.true_params()
        >>> sorted(truth)[:2]
        ['betas', 'invariant']
        """
        classes = pd.Index(range(self.n_classes), name="class")
        out: dict[str, Any] = {
            "betas": pd.DataFrame(self.betas, index=classes, columns=list(self.attribute_names)),
            "shares": pd.Series(self.shares, index=classes, name="share"),
            "invariant": pd.Series(self.invariant, dtype=np.float64, name="coefficient"),
            "membership": None,
        }
        if self.membership is not None:
            with np.errstate(divide="ignore"):
                intercept = np.log(self.shares) - np.log(self.shares[0])
            table = np.column_stack([intercept, self.membership])
            out["membership"] = pd.DataFrame(
                table, index=classes, columns=["Intercept", *self.membership_names]
            )
        return out

    def __repr__(self) -> str:
        n_sit = int(self.data["chid"].nunique()) if len(self.data) else 0
        return (
            f"SimulatedPanel(rows={len(self.data)}, decision_makers={self.n_decision_makers}, "
            f"situations={n_sit}, classes={self.n_classes}, "
            f"attributes={list(self.attribute_names)}, invariant={list(self.invariant)}, "
            f"membership={list(self.membership_names)})"
        )


@dataclass(frozen=True, eq=False, repr=False)
class SimulatedCounts:
    """Simulated counts over one shared candidate set, and the truth.

    Attributes
    ----------
    features : numpy.ndarray
        Candidate features, shape ``(p, L)``, iid standard normal.
    counts : numpy.ndarray
        Number of draws that chose each candidate, shape ``(p,)``, int64; sums to ``n_draws``.
    probabilities : numpy.ndarray
        True mixture choice probabilities ``pi``, shape ``(p,)``, summing to 1.
    betas : numpy.ndarray
        True class coefficients, shape ``(K, L)``.
    shares : numpy.ndarray
        True class shares, shape ``(K,)``.

    Examples
    --------
    >>> from mixlogit.datasets.simulate import simulate_counts
    >>> sim = simulate_counts(n_candidates=100, n_draws=1000, seed=0)
    >>> int(sim.counts.sum()), sim.features.shape[0]
    (1000, 100)
    """

    features: np.ndarray
    counts: np.ndarray
    probabilities: np.ndarray
    betas: np.ndarray
    shares: np.ndarray

    @property
    def n_draws(self) -> int:
        """Total number of draws N (the sum of ``counts``)."""
        return int(self.counts.sum())

    def __repr__(self) -> str:
        return (
            f"SimulatedCounts(candidates={self.features.shape[0]}, "
            f"attributes={self.features.shape[1]}, classes={self.betas.shape[0]}, "
            f"draws={self.n_draws})"
        )


# ----------------------------------------------------------------------------------------------
# validation helpers
# ----------------------------------------------------------------------------------------------


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise SpecificationError(f"{name} must be a positive integer, got {value!r}")
    if value < 1:
        raise SpecificationError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


def _truth(betas: Any, shares: Any, n_attributes: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Validated (K, L) betas and (K,) shares."""
    if betas is None:
        b = default_betas(5 if n_attributes is None else n_attributes)
    else:
        b = np.asarray(betas, dtype=np.float64)
        if b.ndim == 1:
            b = b[None, :]
        if b.ndim != 2 or b.shape[0] < 1 or b.shape[1] < 1:
            raise SpecificationError(
                f"betas must be a (K, L) array (or an (L,) vector for K = 1), got shape "
                f"{np.shape(betas)}"
            )
        if n_attributes is not None and b.shape[1] != _positive_int(n_attributes, "n_attributes"):
            raise SpecificationError(
                f"n_attributes={n_attributes} does not match betas with {b.shape[1]} columns"
            )
    if not np.all(np.isfinite(b)):
        raise SpecificationError("betas must be finite")
    k = b.shape[0]
    if shares is None:
        s = DEFAULT_SHARES.copy() if betas is None else np.full(k, 1.0 / k)
    else:
        s = np.asarray(shares, dtype=np.float64).ravel()
        if s.shape != (k,):
            raise SpecificationError(f"shares must have length K = {k}, got shape {np.shape(shares)}")
        if not np.all(np.isfinite(s)) or np.any(s < 0) or not np.isclose(s.sum(), 1.0, atol=1e-8):
            raise SpecificationError("shares must be non-negative and sum to 1")
        s = s / s.sum()
    return b, s


def _membership(membership: Any, k: int) -> tuple[np.ndarray | None, tuple[str, ...]]:
    if membership is None:
        return None, ()
    if isinstance(membership, np.ndarray) or not isinstance(membership, (tuple, list)):
        gamma, names = membership, None
    elif len(membership) == 2:
        gamma, names = membership
    else:
        raise SpecificationError("membership must be (gamma, covariate_names) or gamma alone")
    g = np.asarray(gamma, dtype=np.float64)
    if g.ndim == 1:
        g = g[:, None]
    if g.ndim != 2 or g.shape[0] != k or g.shape[1] < 1:
        raise SpecificationError(f"membership gamma must have shape (K={k}, M), got {np.shape(gamma)}")
    if not np.all(np.isfinite(g)):
        raise SpecificationError("membership gamma must be finite")
    if np.any(g[0] != 0):
        raise SpecificationError("the first row of membership gamma (reference class) must be zero")
    if names is None:
        names = tuple(f"z{m + 1}" for m in range(g.shape[1]))
    elif isinstance(names, str):
        names = (names,)
    else:
        names = tuple(str(n) for n in names)
    if len(names) != g.shape[1]:
        raise SpecificationError(
            f"{len(names)} membership covariate names for {g.shape[1]} gamma columns"
        )
    return g, names


# ----------------------------------------------------------------------------------------------
# generators
# ----------------------------------------------------------------------------------------------


def _draw_classes(rng: np.random.Generator, s: np.ndarray, gamma: np.ndarray | None, n: int,
                  k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Each decision maker's class, his class probabilities, and his membership covariates."""
    if gamma is None:
        probs = np.broadcast_to(s, (n, k))
        z = None
    else:
        z = rng.standard_normal((n, gamma.shape[1]))
        with np.errstate(divide="ignore"):
            eta = np.log(s)[None, :] + z @ gamma.T
        probs = np.exp(eta - logsumexp(eta, axis=1, keepdims=True))
    cdf = np.cumsum(probs, axis=1)
    u = rng.random(n)
    classes = np.minimum((cdf < (u * cdf[:, -1])[:, None]).sum(axis=1), k - 1).astype(np.int64)
    return classes, probs, z


def _draw_choices(rng: np.random.Generator, x: np.ndarray, b_dm: np.ndarray, inv: dict,
                  n_sit: int, j: int, availability_rate: float
                  ) -> tuple[np.ndarray, np.ndarray | None]:
    """Utilities from the attributes ``x`` (attributes x rows) and each person's tastes,
    Gumbel errors, availability, and the 0/1 choice per (situation, alternative)."""
    n, n_attr = b_dm.shape
    per_dm = x.shape[1] // n
    v = np.zeros((n, per_dm))
    for col in range(n_attr):
        v += x[col].reshape(n, per_dm) * b_dm[:, col : col + 1]
    for m, coef in enumerate(inv.values()):
        v += coef * x[n_attr + m].reshape(n, per_dm)
    util = v.reshape(n_sit, j)
    del v
    util += rng.gumbel(size=(n_sit, j))
    if availability_rate < 1.0:
        avail = rng.random((n_sit, j)) < availability_rate
        empty = np.flatnonzero(~avail.any(axis=1))
        if empty.size:
            avail[empty, rng.integers(0, j, size=empty.size)] = True
        util[~avail] = -np.inf
    else:
        avail = None
    chosen = util.argmax(axis=1)
    choice = np.zeros((n_sit, j), dtype=np.int64)
    choice[np.arange(n_sit), chosen] = 1
    return choice, avail


def simulate_panel(
    *,
    n_decision_makers: int = 1000,
    n_situations: int = 10,
    n_alternatives: int = 4,
    betas: Any = None,
    shares: Any = None,
    n_attributes: int | None = None,
    membership: Any = None,
    invariant: Mapping[str, float] | None = None,
    availability_rate: float = 1.0,
    attribute_scale: float = 1.0,
    seed: int | np.random.Generator | np.random.SeedSequence | None = None,
) -> SimulatedPanel:
    r"""Simulate a balanced panel from a latent-class conditional logit.

    Each of N decision makers belongs to one latent class k (drawn once) and makes T choices,
    each among J alternatives. The utility of alternative j in situation t for decision maker n
    in class k is

    .. math:: U_{ntj} = x_{ntj}'\beta_k + w_{ntj}'\delta + \varepsilon_{ntj},

    with iid Gumbel errors, so the choice is the arg-max of :math:`U` over the available
    alternatives (Gumbel-max trick), which gives conditional logit probabilities within a
    class.

    Parameters
    ----------
    n_decision_makers : int, default 1000
        Number of decision makers N.
    n_situations : int, default 10
        Choice situations per decision maker T.
    n_alternatives : int, default 4
        Alternatives per situation J.
    betas : array_like, optional
        True coefficients, shape ``(K, L)`` (or ``(L,)`` for a single class). Default: the
        well-separated K = 3, L = 5 truth :data:`DEFAULT_BETAS`::

            class 0: [ 1.0, -1.0,  0.5,  0.0, -0.5]
            class 1: [-1.0,  1.0,  0.0,  0.5,  1.0]
            class 2: [ 0.5,  0.5, -1.5,  1.0,  0.0]

        with shares ``(0.5, 0.3, 0.2)``; if ``n_attributes`` is given, the K = 3 truth of
        :func:`default_betas` for that many attributes.
    shares : array_like, optional
        Class shares, shape ``(K,)``, non-negative, summing to 1. Default ``(0.5, 0.3, 0.2)``
        with the default betas, equal shares otherwise. With ``membership`` they are the class
        probabilities of a decision maker whose covariates are all zero.
    n_attributes : int, optional
        Number of class-specific attributes L; only needed with the default betas (with given
        betas it must equal their number of columns).
    membership : tuple (gamma, names), optional
        Class-membership covariates: ``gamma`` has shape ``(K, M)`` with a zero first row
        (reference class) and ``names`` gives the M covariate column names (default ``z1 ...
        zM``; ``gamma`` alone is accepted too). Each decision maker draws
        :math:`z_n \sim N(0, I_M)`, stored as columns constant within decision maker, and
        belongs to class k with probability
        :math:`\mathrm{softmax}_k(\log s_k + z_n'\gamma_k)` where s are the ``shares``.
    invariant : dict, optional
        Extra attributes with a class-invariant coefficient: name -> coefficient. They are drawn
        like the class-specific attributes.
    availability_rate : float, default 1.0
        Probability, in (0, 1], that each alternative is available, independently. A situation
        left with no available alternative gets one, chosen at random. Unavailable rows are
        kept with ``available == 0`` and ``choice == 0``.
    attribute_scale : float, default 1.0
        Standard deviation of the attributes (iid normal with mean 0).
    seed : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Random seed or generator, passed to :func:`numpy.random.default_rng`.

    Returns
    -------
    SimulatedPanel
        ``data`` (long DataFrame with N*T*J rows: ``id, chid, alt, choice, available, x1 ...
        xL``, then the invariant attributes and the membership covariates), ``classes``,
        ``betas``, ``shares``, ``attribute_names``, ``invariant``, ``membership``,
        ``membership_names``, ``class_probabilities`` and the :meth:`SimulatedPanel.true_params`
        helper.

    Raises
    ------
    SpecificationError
        On inconsistent shapes, shares that are not a probability vector, a reference row of
        ``gamma`` that is not zero, duplicate column names or out-of-range arguments.

    Notes
    -----
    Everything is vectorised: the data are balanced, so utilities are reshaped to
    ``(N * T, J)`` and the choice is a row-wise arg-max. 100,000 decision makers x 10
    situations x 4 alternatives (4 million rows, 5 attributes) take about a second and a few
    hundred MB.

    Examples
    --------
    >>> from mixlogit.datasets import simulate
    >>> sim = simulate(n_decision_makers=200, n_situations=5, n_alternatives=3, seed=1)
    >>> sim.data.shape
    (3000, 10)
    >>> list(sim.data.columns)
    ['id', 'chid', 'alt', 'choice', 'available', 'x1', 'x2', 'x3', 'x4', 'x5']
    >>> bool((sim.data.groupby("chid")["choice"].sum() == 1).all())
    True
    >>> sim.betas.shape, sim.classes.shape
    ((3, 5), (200,))
    """
    n = _positive_int(n_decision_makers, "n_decision_makers")
    t = _positive_int(n_situations, "n_situations")
    j = _positive_int(n_alternatives, "n_alternatives")
    b, s = _truth(betas, shares, n_attributes)
    k, n_attr = b.shape
    gamma, z_names = _membership(membership, k)
    inv = {str(name): float(coef) for name, coef in dict(invariant or {}).items()}
    if not all(np.isfinite(list(inv.values()))):
        raise SpecificationError("invariant coefficients must be finite")
    if not (0.0 < float(availability_rate) <= 1.0):
        raise SpecificationError(f"availability_rate must be in (0, 1], got {availability_rate!r}")
    if not (np.isfinite(attribute_scale) and attribute_scale > 0):
        raise SpecificationError(f"attribute_scale must be positive, got {attribute_scale!r}")
    attr_names = tuple(f"x{l + 1}" for l in range(n_attr))
    all_names = ["id", "chid", "alt", "choice", "available", *attr_names, *inv, *z_names]
    if len(set(all_names)) != len(all_names):
        raise SpecificationError(f"duplicate column names among {all_names}")

    rng = np.random.default_rng(seed)
    n_sit = n * t
    per_dm = t * j
    n_rows = n_sit * j

    classes, probs, z = _draw_classes(rng, s, gamma, n, k)
    x = rng.standard_normal((n_attr + len(inv), n_rows))
    if attribute_scale != 1.0:
        x *= attribute_scale
    choice, avail = _draw_choices(rng, x, b[classes], inv, n_sit, j, availability_rate)

    columns: dict[str, Any] = {
        "id": np.repeat(np.arange(1, n + 1, dtype=np.int64), per_dm),
        "chid": np.repeat(np.arange(1, n_sit + 1, dtype=np.int64), j),
        "alt": pd.Categorical.from_codes(
            np.tile(np.arange(j, dtype=np.int16 if j < 2**15 else np.int32), n_sit),
            categories=pd.Index(np.arange(1, j + 1, dtype=np.int64)),
            ordered=True,
        ),
        "choice": choice.reshape(-1),
        "available": (
            np.ones(n_rows, dtype=np.int64) if avail is None else avail.reshape(-1).astype(np.int64)
        ),
    }
    for col, name in enumerate(attr_names):
        columns[name] = x[col]
    for m, name in enumerate(inv):
        columns[name] = x[n_attr + m]
    if z is not None:
        for m, name in enumerate(z_names):
            columns[name] = np.repeat(z[:, m], per_dm)
    data = pd.DataFrame(columns, copy=False)

    return SimulatedPanel(
        data=data,
        classes=_frozen(classes),
        betas=_frozen(b),
        shares=_frozen(s),
        attribute_names=attr_names,
        invariant=inv,
        membership=None if gamma is None else _frozen(gamma),
        membership_names=z_names,
        class_probabilities=_frozen(probs),
    )


def simulate_counts(
    *,
    n_candidates: int,
    n_draws: int,
    betas: Any = None,
    shares: Any = None,
    seed: int | np.random.Generator | np.random.SeedSequence | None = None,
) -> SimulatedCounts:
    r"""Simulate choice counts over one shared candidate set from a mixture of logits.

    The p candidates have features :math:`x_j \sim N(0, I_L)`. The mixture choice probability
    of candidate j is

    .. math:: \pi_j = \sum_k \alpha_k \,
              \frac{\exp(x_j'\beta_k)}{\sum_{i=1}^p \exp(x_i'\beta_k)},

    computed with log-sum-exp, and the counts are one multinomial draw
    :math:`c \sim \mathrm{Multinomial}(N, \pi)`.

    Parameters
    ----------
    n_candidates : int
        Number of candidates p.
    n_draws : int
        Number of draws N (the counts sum to N); 0 is allowed.
    betas : array_like, optional
        Class coefficients, shape ``(K, L)`` (or ``(L,)`` for one class). Default
        :data:`DEFAULT_BETAS` (K = 3, L = 5).
    shares : array_like, optional
        Class shares :math:`\alpha`, shape ``(K,)``. Default ``(0.5, 0.3, 0.2)`` with the
        default betas, equal shares otherwise.
    seed : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Random seed or generator.

    Returns
    -------
    SimulatedCounts
        ``features`` (p, L), ``counts`` (p,), ``probabilities`` (p,), ``betas``, ``shares``.

    Raises
    ------
    SpecificationError
        On invalid sizes, shapes or shares.

    Examples
    --------
    >>> from mixlogit.datasets.simulate import simulate_counts
    >>> sim = simulate_counts(n_candidates=50, n_draws=10_000, seed=0)
    >>> sim.features.shape, int(sim.counts.sum())
    ((50, 5), 10000)
    >>> bool(abs(sim.probabilities.sum() - 1) < 1e-12)
    True
    """
    p = _positive_int(n_candidates, "n_candidates")
    if isinstance(n_draws, (bool, np.bool_)) or not isinstance(n_draws, (int, np.integer)) or n_draws < 0:
        raise SpecificationError(f"n_draws must be a non-negative integer, got {n_draws!r}")
    b, s = _truth(betas, shares, None)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((p, b.shape[1]))
    util = x @ b.T  # (p, K)
    log_within = util - logsumexp(util, axis=0, keepdims=True)
    log_pi = logsumexp(log_within, b=s[None, :], axis=1)
    pi = np.exp(log_pi - logsumexp(log_pi))
    counts = rng.multinomial(int(n_draws), pi).astype(np.int64)
    return SimulatedCounts(
        features=_frozen(x),
        counts=_frozen(counts),
        probabilities=_frozen(pi),
        betas=_frozen(b),
        shares=_frozen(s),
    )


class _CallableModule(types.ModuleType):
    """Module type whose instances forward calls to :func:`simulate_panel`."""

    def __call__(self, **kwargs: Any) -> SimulatedPanel:
        return simulate_panel(**kwargs)


sys.modules[__name__].__class__ = _CallableModule
