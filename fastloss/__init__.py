"""fastloss: fast, accurate CPU activations, their derivatives and losses for NumPy.

    import fastloss as fl
    fl.sigmoid(x); fl.sigmoid_grad(x, g); fl.cross_entropy(logits, target)

See API.md in the project for the contract; ``fl.reference`` is the NumPy reference.
"""
__version__ = '0.1.0'

from ._config import (get_num_threads, set_num_threads, num_threads, show_config,
                      set_buffer_cache, buffer_cache_info)
from . import activations as _activations
from .activations import *  # noqa: F401,F403
from .activations import ACTIVATIONS
from . import losses as _losses
from .losses import *  # noqa: F401,F403
from .losses import LOSSES
from . import reference
from . import diagnostics

_ACTIVATION_FUNCS = [n for n in dir(_activations)
                     if not n.startswith('_') and callable(getattr(_activations, n))
                     and getattr(_activations, n).__module__ == _activations.__name__]

__all__ = (['ACTIVATIONS', 'LOSSES', 'reference', 'diagnostics', 'get_num_threads', 'set_num_threads',
            'num_threads', 'show_config', 'set_buffer_cache', 'buffer_cache_info']
           + _ACTIVATION_FUNCS + _losses.__all__[1:])
