"""fastloss.reference -- the NumPy reference implementation.

Same names and signatures as fastloss (no ``out=``), written from the numerically stable
formulas and evaluated in long double (float64 where NumPy has nothing better), the
result cast to the computation dtype.  The test-suite checks every kernel against it;
users can check their own code against it too.  It is slow on purpose: clarity first.
"""
from . import _activations, _losses, _class_losses, _ctc


def _public(module):
    return [n for n, v in vars(module).items()
            if callable(v) and not n.startswith('_') and getattr(v, '__module__', '') == module.__name__]


__all__ = []
for _m in (_activations, _losses, _class_losses, _ctc):
    __all__ += _public(_m)
    globals().update({n: getattr(_m, n) for n in _public(_m)})
del _m
