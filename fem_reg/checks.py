"""Parameter checks that raise :class:`~fem_reg.errors.ParameterError` naming the parameter
and its allowed range. Ground floor: used by every layer."""

import math
import numbers

import numpy as np

from .errors import ParameterError


def number(name, value, *, low=None, high=None, low_open=False, high_open=False):
    """A finite real number in ``[low, high]`` (ends open on request); returns it as float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(value):
        raise ParameterError(f"{name} must be a finite number, got {value!r}")
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        left = "(-inf" if low is None else ("(" if low_open else "[") + f"{low:g}"
        right = "inf)" if high is None else f"{high:g}" + (")" if high_open else "]")
        raise ParameterError(f"{name} must be in {left}, {right}, got {value:g}")
    return value


def positive(name, value):
    """A finite number > 0."""
    return number(name, value, low=0.0, low_open=True)


def non_negative(name, value):
    """A finite number >= 0."""
    return number(name, value, low=0.0)


def integer(name, value, *, low=None, high=None):
    """An integer in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ParameterError(f"{name} must be an integer, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        if high is None:
            bound = f">= {low}"
        elif low is None:
            bound = f"<= {high}"
        else:
            bound = f"in [{low}, {high}]"
        raise ParameterError(f"{name} must be an integer {bound}, got {value}")
    return int(value)


def one_of(name, value, allowed):
    """``value`` if it is one of ``allowed``."""
    if value not in allowed:
        raise ParameterError(f"{name} must be one of {', '.join(map(str, allowed))}, "
                             f"got {value!r}")
    return value


def flag(name, value):
    """A boolean."""
    if not isinstance(value, bool):
        raise ParameterError(f"{name} must be true or false, got {value!r}")
    return value


def parameters(cls, values, owner):
    """Build the frozen dataclass ``cls`` from a mapping, refusing unknown keys.

    ``owner`` names what the parameters belong to (``"helmholtz_mms"``) in the message.
    """
    from dataclasses import fields
    allowed = [f.name for f in fields(cls)]
    unknown = [key for key in values if key not in allowed]
    if unknown:
        raise ParameterError(f"unknown parameter '{unknown[0]}' for {owner}; allowed: "
                             f"{', '.join(allowed)}")
    return cls(**values)


WORDS = {2: "two", 3: "three"}


def vector(name, value, dim=2):
    """``value`` as ``dim`` finite numbers; ``dim`` may be a tuple of allowed lengths
    (``(2, 3)``: a 2D or 3D vector)."""
    dims = dim if isinstance(dim, tuple) else (dim,)
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        array = None
    if array is None or array.shape not in [(d,) for d in dims] \
            or not np.isfinite(array).all():
        count = " or ".join(WORDS.get(d, str(d)) for d in dims)
        axes = " or ".join("[" + ", ".join("xyz"[:d]) + "]" for d in dims)
        raise ParameterError(f"{name} must be {count} finite numbers {axes}, got {value!r}")
    return array


def mapping(name, value):
    """``value`` must be a table ``{name: ...}``."""
    if not isinstance(value, dict):
        raise ParameterError(f"{name} must be a table {{name = ...}}, got {value!r}")
    return value


def point_items(name, items, key, check, dim=2):
    """A list of ``{at = [x, y], key = value}`` items, each value passed to ``check``."""
    if not isinstance(items, (list, tuple)):
        raise ParameterError(f"{name} must be a list of {{at = [x, y], {key} = ...}}")
    for k, item in enumerate(items):
        if not isinstance(item, dict) or set(item) != {"at", key}:
            raise ParameterError(f"{name}[{k}] must have exactly the keys 'at' and '{key}', "
                                 f"got {item!r}")
        vector(f"{name}[{k}].at", item["at"], dim)
        check(f"{name}[{k}].{key}", item[key])
    return items
