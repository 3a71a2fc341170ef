"""NetworkUnit's model-to-model tests (Gutzen et al. 2018) on two sets of runs.

The ``validate`` step's verdicts are paired equivalence tests against declared tolerances
(``pipeline.validation``). Beside it, this module runs the two-sample tests of
``networkunit`` 0.2.2 (sciunit ``TestM2M``) on the same spike trains, as a community
reference: firing rates (``firing_rate_test``), CV and LV of the inter-spike intervals
(``isi_variation_test``) and pairwise spike-count correlations
(``correlation_dist_test``), each scored with ``scores.ks_distance`` (the two-sample
Kolmogorov-Smirnov distance and its p-value).

A side's "model" is the neurons of all its runs pooled: each neuron's spikes in the
training phases, the phases joined end to end (t_stop = the summed training time).
Correlation coefficients are computed within each run (10 ms bins) and pooled, never
between neurons of different runs. Pooled-sample tests treat every neuron (or pair) as an
independent sample and ignore that whole runs differ from seed to seed; the calibration
benchmark measured how often they would cry wolf (docs/validation.md, "NetworkUnit").

Compatibility, checked here with pandas 3.1.1: sciunit's ``ScoreMatrixM2M`` attribute
access (``.score``) calls ``DataFrame.applymap``, which pandas 3 removed, so the scores are
read from the matrix by position. sciunit writes ``~/.sciunit/config.json`` when imported;
the import runs with HOME pointed at a directory under the system's temporary directory.
"""
from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .validation.statistics import CORR_BIN_MS   # the validation's bins, defined once

# statistic name in validation.json -> (population, networkunit test, its parameters)
TESTS: dict[str, tuple[str, str, dict]] = {
    "rate_exc": ("exc", "firing_rate_test", {}),
    "rate_inh": ("inh", "firing_rate_test", {}),
    "cv_isi_exc": ("exc", "isi_variation_test", {"variation_measure": "cv"}),
    "cv_isi_inh": ("inh", "isi_variation_test", {"variation_measure": "cv"}),
    "lv_isi_exc": ("exc", "isi_variation_test", {"variation_measure": "lv"}),
    "lv_isi_inh": ("inh", "isi_variation_test", {"variation_measure": "lv"}),
    "corr_exc": ("exc", "correlation_dist_test", {}),
    "corr_inh": ("inh", "correlation_dist_test", {}),
}


def _import_networkunit():
    """Import networkunit and sciunit with sciunit's config file kept out of HOME."""
    home = os.environ.get("HOME")
    cfg_home = Path(tempfile.gettempdir()) / "stdp-capacity-sciunit"
    cfg_home.mkdir(exist_ok=True)
    os.environ["HOME"] = str(cfg_home)
    logging.getLogger("sciunit").setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import sciunit
            from networkunit import models, scores, tests
    finally:
        if home is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = home
    return sciunit, models, scores, tests


def joined_training_trains(trains: dict[int, np.ndarray],
                           windows: list[tuple[float, float]]) -> list[Any]:
    """Return one neo SpikeTrain [ms] per neuron: its spikes in the training ``windows``
    (start, stop) [ms], the windows joined end to end."""
    import neo
    import quantities as pq
    offsets = np.concatenate([[0.0], np.cumsum([b - a for a, b in windows])])
    out = []
    for n in sorted(trains):
        t = trains[n]
        parts = [t[(t >= a) & (t < b)] - a + off
                 for (a, b), off in zip(windows, offsets[:-1])]
        joined = np.sort(np.concatenate(parts)) if parts else np.array([])
        out.append(neo.SpikeTrain(joined * pq.ms, t_stop=float(offsets[-1]) * pq.ms,
                                  t_start=0.0 * pq.ms))
    return out


def run_tests(a_runs: list, b_runs: list) -> dict[str, dict]:
    """Run networkunit's model-to-model tests on sides A and B (``RunData`` lists).

    Returns {statistic: {"test", "score", "ks_distance", "p_value", "samples": [nA, nB]}}
    (KS distance dimensionless, p-value of the pooled two-sample KS test); a statistic
    without enough spikes on a side gets {"test", "error"}.
    """
    sciunit, models, scores, tests = _import_networkunit()

    class Side(models.loaded_spiketrains):
        """A side's spike trains as networkunit's stored-spikes model: one list per run."""

        # the trains already start at 0 (joined_training_trains); networkunit's re-alignment
        # rebuilds every train through Python lists on each test (a tenth of a validation)
        default_params = {**models.loaded_spiketrains.default_params, "align_to_0": False}

        def __init__(self, name: str, per_run: list[list]):
            self.per_run = per_run
            super().__init__(name=name)
            # sciunit's result cache keys on a hash of the model, which jsonpickles every
            # spike train (14 s per side at the default scale): there is nothing to cache
            self._backend.use_memory_cache = False

        def load(self):
            return [st for run in self.per_run for st in run]

    class CorrelationsWithinRuns(tests.correlation_dist_test):
        """correlation_dist_test whose samples are the pairs within each run, pooled."""

        def generate_prediction(self, model):
            return np.concatenate([self.generate_correlations(spiketrains=sts)
                                   for sts in model.per_run if len(sts) >= 2])

    base = {"firing_rate_test": tests.firing_rate_test,
            "isi_variation_test": tests.isi_variation_test,
            "correlation_dist_test": CorrelationsWithinRuns}
    import elephant.utils
    import quantities as pq
    elephant.utils.logger.setLevel(logging.ERROR)

    out: dict[str, dict] = {}
    sides: dict[str, tuple] = {}
    for stat, (pop, test_name, params) in TESTS.items():
        if pop not in sides:
            sides[pop] = tuple(
                Side(label, [joined_training_trains(r.trains[pop], r.windows) for r in runs])
                for label, runs in (("A", a_runs), ("B", b_runs)))
        model_a, model_b = sides[pop]
        test_cls = type(f"{test_name}_m2m", (sciunit.TestM2M, base[test_name]),
                        {"score_type": scores.ks_distance})
        kwargs = dict(params)
        if test_name == "correlation_dist_test":
            kwargs.update(bin_size=CORR_BIN_MS * pq.ms, nan_to_num=False)
        try:
            # ks_distance prints how many non-finite samples (neurons with < 3 spikes
            # have no CV) it filtered: keep that off the step's output
            with warnings.catch_warnings(), np.errstate(all="ignore"), \
                    contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                matrix = test_cls(**kwargs).judge([model_a, model_b])
                score = matrix.iloc[0, 1]         # pandas 3: no ScoreMatrixM2M.score
        except Exception as exc:                  # networkunit's own failure, reported
            out[stat] = {"test": test_name, "error": f"{type(exc).__name__}: {exc}"}
            continue
        out[stat] = {"test": f"networkunit.tests.{test_name}"
                             + (f"({', '.join(f'{k}={v}' for k, v in params.items())})"
                                if params else ""),
                     "score": "networkunit.scores.ks_distance",
                     "ks_distance": float(score.score),
                     "p_value": float(score.pvalue),
                     "samples": [int(x) for x in score.data_size]}
    return out
