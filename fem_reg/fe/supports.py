"""Named supports of a case file's ``[supports]`` table, one vocabulary for every physics.

==============  ==================================================================
``clamped``     every displacement component, and the rotation where the element has one
``pinned``      every displacement component
``fixed_x``     ``u_x`` (likewise ``fixed_y``, ``fixed_z``)
``fixed_theta`` the drilling rotation (membranes with rotation unknowns)
==============  ==================================================================
"""

from ..checks import one_of
from ..errors import ParameterError

SUPPORTS = {"clamped": ("x", "y", "z", "theta"), "pinned": ("x", "y", "z"),
            "fixed_x": ("x",), "fixed_y": ("y",), "fixed_z": ("z",),
            "fixed_theta": ("theta",)}


def check_supports(supports):
    """Validate ``{boundary: kind}``; returns it."""
    for name, kind in supports.items():
        one_of(f"supports.{name}", kind, tuple(SUPPORTS))
    return supports


def support_components(kind, where, *, dim, rotation=False):
    """The components a support fixes on a ``dim``-dimensional model: ``"x"``, ``"y"``,
    ``"z"``, ``"theta"``. ``clamped`` and ``pinned`` fix what the model has; naming a
    component it lacks is an error that names the support.

    >>> support_components("clamped", "supports.left", dim=2)
    ('x', 'y')
    >>> support_components("clamped", "supports.left", dim=2, rotation=True)
    ('x', 'y', 'theta')
    >>> support_components("fixed_z", "supports.left", dim=2)
    Traceback (most recent call last):
    ...
    fem_reg.errors.ParameterError: supports.left: fixed_z: a 2D model has no z component
    """
    one_of(where, kind, tuple(SUPPORTS))
    present = set("xyz"[:dim]) | ({"theta"} if rotation else set())
    components = tuple(c for c in SUPPORTS[kind] if c in present)
    if kind not in ("clamped", "pinned") and not components:
        missing = SUPPORTS[kind][0]
        what = "no rotation unknowns" if missing == "theta" else f"no {missing} component"
        raise ParameterError(f"{where}: {kind}: a {dim}D model has {what}")
    return components
