"""Validated, immutable choice data of both forms.

* :mod:`~mixlogit.data.long`: :class:`ChoiceData`, long format (one row per
  situation and available alternative), with the missing-value policy;
* :mod:`~mixlogit.data.counts`: :class:`CountsData`, one shared candidate set
  with the number of draws that chose each candidate;
* :mod:`~mixlogit.data.whitening`: the feature whitening of the counts form;
* :mod:`~mixlogit.data.wide`: :func:`long_from_wide`, wide data (one row per
  situation) to the long format.
"""
from .counts import CountsData
from .long import ChoiceData, DropReport
from .wide import long_from_wide

__all__ = ["ChoiceData", "CountsData", "DropReport", "long_from_wide"]
