"""The limits of stock-and-flow input: every bound a model, a run or a sweep must stay within.

A model file is input from anywhere, so what it can ask of the machine is
bounded, and going past a bound is a located :class:`~tenor.core.errors.TenorError`
(exit code 2 on the command line), never a crash, a hang or an exhausted
memory. Each limit that a legitimate large job may need to raise has an
environment variable that overrides it.

=========================  ============  ==========================  =========================================
limit                      default       override (environment)      what it bounds
=========================  ============  ==========================  =========================================
``MAX_MODEL_BYTES``        5,000,000     ``TENOR_MAX_MODEL_BYTES``   size of an XMILE or Vensim file, checked
                                                                     before any parser sees it
``MAX_NESTING``            30            --                          parentheses, calls, ``if`` and signs
                                                                     nested inside one equation
``MAX_EQUATION_DEPTH``     250           --                          depth of an equation's tree (a chain
                                                                     ``a + b + ...`` counts one per term)
``MAX_VARIABLES``          250,000       --                          scalar variables of a model once its
                                                                     dimensions are expanded (x[a, b] counts
                                                                     len(a) x len(b))
``MAX_STEPS``              10,000,000    ``TENOR_MAX_STEPS``         time steps of one run:
                                                                     (stop - start) / dt
``MAX_SCENARIOS``          10,000,000    --                          scenarios of one sweep (grid or samples)
``MAX_RESULT_BYTES``       4 GiB         ``TENOR_MAX_RESULT_BYTES``  estimated memory of a run's results:
                                                                     saved rows x kept variables x scenarios
                                                                     x 8 bytes (x 3 when written as a table),
                                                                     plus one chunk's working arrays
``MAX_UNROLL_NODES``       1,000,000     --                          nodes of an unrolled model:
                                                                     steps x variables
=========================  ============  ==========================  =========================================

The time axis of every model (YAML, XMILE or Vensim) must also be sound:
start, stop, dt and the saving step finite; dt and the saving step positive;
stop after start; the saving step at least dt; and dt large enough to move
time forward at the precision of a float (see :func:`time_axis_problem`).

Examples
--------
>>> time_axis_problem(0, 10, 0, 1)
('dt', 'dt is 0; it must be positive', 'use a time step such as dt: 1 or dt: 0.25')
>>> time_axis_problem(0, 10, 1, 1) is None
True
>>> steps_needed(0, 10, 0.25)
40
"""

from __future__ import annotations

import math
import os

__all__ = [
    "MAX_DATA_BYTES",
    "MAX_EQUATION_DEPTH",
    "MAX_MODEL_BYTES",
    "MAX_NESTING",
    "MAX_RESULT_BYTES",
    "MAX_SCENARIOS",
    "MAX_STEPS",
    "MAX_UNROLL_NODES",
    "MAX_VARIABLES",
    "format_bytes",
    "max_data_bytes",
    "max_model_bytes",
    "max_result_bytes",
    "max_steps",
    "steps_needed",
    "time_axis_problem",
]

MAX_MODEL_BYTES = 5_000_000
"""Largest XMILE or Vensim file read, in bytes (override: ``TENOR_MAX_MODEL_BYTES``)."""

MAX_DATA_BYTES = 64 * 1024 * 1024
"""Largest data file (GET XLS / GET DIRECT, DATA) a model may name, in bytes (override: ``TENOR_MAX_DATA_BYTES``)."""

MAX_NESTING = 30
"""Deepest nesting of parentheses, calls, ``if`` and signs in one equation."""

MAX_EQUATION_DEPTH = 250
"""Deepest equation tree accepted (a chain of n terms is n deep)."""

MAX_VARIABLES = 250_000
"""Most scalar variables in a model, dimensions expanded."""

MAX_STEPS = 10_000_000
"""Most time steps in one run (override: ``TENOR_MAX_STEPS``)."""

MAX_SCENARIOS = 10_000_000
"""Most scenarios in one sweep."""

MAX_RESULT_BYTES = 4 * 1024**3
"""Largest estimated memory for a run's results (override: ``TENOR_MAX_RESULT_BYTES``)."""

MAX_UNROLL_NODES = 1_000_000
"""Most nodes in an unrolled model (steps x variables)."""


def _override(variable: str, default: int) -> int:
    text = os.environ.get(variable, "").strip().replace("_", "")
    if not text:
        return default
    try:
        value = int(float(text))
    except (ValueError, OverflowError):
        return default
    return value if value > 0 else default


def max_model_bytes() -> int:
    """:data:`MAX_MODEL_BYTES`, or ``TENOR_MAX_MODEL_BYTES`` when set to a positive number."""
    return _override("TENOR_MAX_MODEL_BYTES", MAX_MODEL_BYTES)


def max_data_bytes() -> int:
    """:data:`MAX_DATA_BYTES`, or ``TENOR_MAX_DATA_BYTES`` when set to a positive number."""
    return _override("TENOR_MAX_DATA_BYTES", MAX_DATA_BYTES)


def max_steps() -> int:
    """:data:`MAX_STEPS`, or ``TENOR_MAX_STEPS`` when set to a positive number."""
    return _override("TENOR_MAX_STEPS", MAX_STEPS)


def max_result_bytes() -> int:
    """:data:`MAX_RESULT_BYTES`, or ``TENOR_MAX_RESULT_BYTES`` when set to a positive number."""
    return _override("TENOR_MAX_RESULT_BYTES", MAX_RESULT_BYTES)


def format_bytes(n: float) -> str:
    """A byte count for people: ``format_bytes(3 * 1024**3)`` is ``'3.0 GiB'``."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:,.0f} bytes" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover


def _count(n: int) -> str:
    return f"{n:,}" if n < 10**15 else f"{float(n):.3g}"


def steps_needed(start: float, stop: float, dt: float) -> int:
    """Time steps from ``start`` to ``stop`` by ``dt`` (for a sound axis; see :func:`time_axis_problem`)."""
    ratio = (stop - start) / dt
    if not math.isfinite(ratio):
        return 2**63
    return max(0, math.ceil(ratio - 1e-9))


def time_axis_problem(
    start: float, stop: float, dt: float, save_step: float | None = None
) -> tuple[str, str, str] | None:
    """What is wrong with a time axis, as (field, message, hint), or None when it can be run.

    The fields are ``start``, ``stop``, ``dt`` and ``save_step``.
    """
    values = {"start": start, "stop": stop, "dt": dt}
    if save_step is not None:
        values["save_step"] = save_step
    for name, value in values.items():
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            return name, f"{name} is {value!r}, not a number", f"give {name} as a finite number"
        if not math.isfinite(number):
            return name, f"{name} is {number!r}; it must be a finite number", f"give {name} as a finite number"
    if dt <= 0:
        return "dt", f"dt is {dt:g}; it must be positive", "use a time step such as dt: 1 or dt: 0.25"
    if save_step is not None and save_step <= 0:
        return (
            "save_step",
            f"the saving step is {save_step:g}; it must be positive",
            "save every dt, or every few dt (a positive multiple of dt)",
        )
    if stop <= start:
        return "stop", f"stop ({stop:g}) must be after start ({start:g})", "make stop larger than start"
    if save_step is not None and save_step < dt * (1 - 1e-9):
        return (
            "save_step",
            f"the saving step ({save_step:g}) is shorter than dt ({dt:g})",
            "use a saving step that is a multiple of dt",
        )
    steps = steps_needed(start, stop, dt)
    limit = max_steps()
    if steps > limit:
        return (
            "dt",
            f"the run needs {_count(steps)} time steps ((stop - start) / dt); the limit is {limit:,}",
            "use a larger dt or a shorter time span (or raise the limit with TENOR_MAX_STEPS)",
        )
    scale = max(abs(start), abs(stop))
    if dt < 1024 * math.ulp(scale) or stop - dt == stop:
        return (
            "dt",
            f"dt ({dt:g}) is too small to move time forward from {scale:g} in floating point",
            "use a larger dt, or start nearer zero",
        )
    return None
