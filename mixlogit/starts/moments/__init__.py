"""Latent moments, method of moments and subspace starts for softmax mixtures.

This module implements sections 3.2-3.4 and the counts-form Fisher information of
section 7 of ``ALGORITHMS.md``. It works in the *counts form* of the model: one
shared candidate set of ``p`` candidates with features ``X`` (``p x L``) and
``counts`` (length ``p``), the number of times each candidate was chosen in
``N = counts.sum()`` independent draws from the mixture

.. math::

    \\pi_j = \\sum_k \\alpha_k \\sigma_j(\\beta_k), \\qquad
    \\sigma_j(\\beta) = \\frac{\\exp(x_j'\\beta)}{\\sum_l \\exp(x_l'\\beta)}.

Gaussian design identities
--------------------------
If the candidate features are draws from :math:`N(0, I_L)` and ``p`` is large,
:math:`\\sum_l \\exp(x_l'\\beta) \\approx p \\exp(|\\beta|^2/2)` and the Hermite
identity :math:`E[He_r(x) \\exp(x'\\beta - |\\beta|^2/2)] = \\beta^{\\otimes r}` give

* ``M1 = sum_j pihat_j z_j``            ~ ``sum_k alpha_k beta_k``
* ``M2 = sum_j pihat_j (z_j z_j' - I)`` ~ ``sum_k alpha_k beta_k beta_k'``
* ``M3 = sum_j pihat_j He3(z_j)``       ~ ``sum_k alpha_k beta_k^{(x)3}``

where the ``z_j`` are the whitened features and the ``beta_k`` the coefficients in
whitened coordinates. Errors: sampling ``O(N^{-1/2})`` and a finite-``p``
random-design error ``O(sqrt(exp(|beta|^2) / p))``. The identities are exact only
in the limit; they break down when the features are not Gaussian (skewed,
discrete, heavy tailed) or when ``|beta|`` is large relative to ``log p`` (the
softmax then concentrates on a few extreme candidates and the law of large
numbers behind the approximation of the denominator fails).

Everything is computed in whitened coordinates and mapped back to the original
feature coordinates with :class:`Whitening`. The mean shift of the whitening
only adds a constant to every utility, which a softmax ignores.

The package has three modules along its jobs: :mod:`~mixlogit.starts.moments.latent`
(the latent moments and the draws in their subspace),
:mod:`~mixlogit.starts.moments.mom` (the method of moments) and
:mod:`~mixlogit.starts.moments.fisher` (the counts-form Fisher information); every
public name is importable from ``mixlogit.starts.moments``. It imports nothing from
mixlogit except the data whitening and the exceptions.
"""
from __future__ import annotations

from ...data.whitening import Whitening, whiten
from .fisher import counts_fisher_information
from .latent import LatentMoments, Subspace, full_space_starts, latent_moments, subspace_starts
from .mom import MomentEstimate, logits_to_shares, mom_estimate, shares_to_logits

__all__ = [
    "Whitening",
    "whiten",
    "Subspace",
    "LatentMoments",
    "latent_moments",
    "MomentEstimate",
    "mom_estimate",
    "subspace_starts",
    "full_space_starts",
    "counts_fisher_information",
    "shares_to_logits",
    "logits_to_shares",
]
