"""The theory's failures in words: every numerical failure of the mean-field theory
becomes one :class:`TheoryError` (a ConfigError: the CLI prints it on one line and exits
with status 2) that names the config parameters involved and what to change."""
from __future__ import annotations

import contextlib
from typing import Any, Iterator, Mapping

import numpy as np

from ..config import ConfigError

# what the theory's numerics raise: its own checks (RuntimeError, ValueError,
# FloatingPointError), numpy/scipy (LinAlgError; brentq's ValueError), float conversion
NUMERICAL = (RuntimeError, ValueError, FloatingPointError, OverflowError, ZeroDivisionError,
             np.linalg.LinAlgError)


class TheoryError(ConfigError):
    """A config the theory cannot evaluate; the message names the parameters and the fix."""


def _values(cfg: Mapping[str, Any] | None, keys: tuple[str, ...]) -> str:
    """Return 'section.key = value, ...' for dotted ``keys`` of ``cfg`` (the names alone
    when no config is given)."""
    out = []
    for dotted in keys:
        section, key = dotted.split(".")
        try:
            out.append(f"{dotted} = {cfg[section][key]:g}")
        except (KeyError, TypeError, ValueError):
            out.append(dotted)
    return ", ".join(out)


RATES = ("noise.mu_exc", "noise.mu_inh", "noise.d_exc", "noise.d_inh", "network.j",
         "network.g", "network.h", "network.c_exc", "network.c_inh")
DRIVE = ("inputs.m", "inputs.f_c", "inputs.nu1_hz", "weights.m0", "targets.supervision_hz")
WEIGHTS = ("stdp.delta_c", "stdp.r_ac", "stdp.tau_c_ms", "stdp.tau_ac_ms", "inputs.nu1_hz",
           "inputs.nu0_hz", "weights.m0")


def in_words(err: Exception, cfg: Mapping[str, Any] | None, what: str = "the theory") \
        -> TheoryError:
    """Return the TheoryError that says, in words, why ``what`` failed with ``err`` on the
    config ``cfg``: non-convergence, a non-positive diffusion, a weight variance that never
    settles, or a number outside the Siegert formula's domain."""
    msg = " ".join(str(err).split())
    if "did not converge" in msg:
        recall = "recall" in msg
        return TheoryError(
            f"{what}: the {'spiking recall' if recall else 'network'}'s self-consistent rates "
            f"did not converge ({msg}); the network at {_values(cfg, RATES + DRIVE)} has "
            f"no stable operating point the mean-field theory can find. Bring the mean drives "
            f"noise.mu_exc/mu_inh to within a few thresholds of 1 (the paper: 0 and 0.5), "
            f"keep noise.d_exc/d_inh of order 0.1 and the feed-forward drive inputs.m * "
            f"inputs.f_c * weights.m0 of order 1, or weaken recurrent excitation "
            f"(network.j, network.c_exc) against inhibition (network.g); if the class weights "
            f"m, v above ran far from weights.m0 and 0, the plasticity drove them there: "
            f"check {', '.join(WEIGHTS[:4])}")
    if "noise intensity D must be > 0" in msg:
        return TheoryError(
            f"{what}: non-positive diffusion: a neuron's total input noise D came out <= 0 "
            f"({msg.split('got', 1)[-1].strip()}). D is noise.d_exc/d_inh plus the variance "
            f"of the recurrent and feed-forward input, and it goes negative when the weight "
            f"variance does: at {_values(cfg, WEIGHTS + ('noise.d_exc', 'noise.d_inh'))}. "
            f"Give the neurons background noise (noise.d_exc, noise.d_inh > 0) and a "
            f"potentiation step stdp.delta_c of the order of -stdp.r_ac * weights.m0")
    if "stays above V" in msg:
        return TheoryError(
            f"{what}: no stationary weight variance ({msg}): with {_values(cfg, WEIGHTS)} "
            f"each episode spreads the weights more than homeostasis and depression pull "
            f"them back. Strengthen depression (a more negative stdp.r_ac), take a smaller "
            f"stdp.delta_c, or let the inputs fire (inputs.nu1_hz of a few Hz or more)")
    return TheoryError(
        f"{what} met a number it cannot use ({type(err).__name__}: {msg}): the rates or "
        f"their linear response left the domain of the Siegert formula (finite, positive "
        f"rates and noise) at {_values(cfg, RATES + ('network.tau_m_ms', 'stdp.tau_c_ms', 'stdp.tau_ac_ms'))}. "
        f"Move these towards the paper's values (config/paper.yaml): mean drives within a "
        f"few thresholds, noise of order 0.1, STDP time constants of the order of tau_m")


@contextlib.contextmanager
def failures_in_words(cfg: Mapping[str, Any] | None, what: str = "the theory") -> Iterator[None]:
    """Turn any numerical failure inside the block into a TheoryError (see in_words)."""
    try:
        yield
    except TheoryError:
        raise
    except NUMERICAL as err:
        raise in_words(err, cfg, what) from err
