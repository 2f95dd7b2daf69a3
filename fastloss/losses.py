"""Losses (API.md, "Losses"): each in three forms, <loss>(input, target, ...,
reduction='mean'), <loss>_grad(..., grad_output=None, out=None) and the fused
<loss>_value_and_grad(...) -> (value, grad) computed in one pass over the data.

The implementations live in _pointwise_losses (elementwise losses), _class_losses
(cross-entropy family) and _ctc_loss; this module gathers them.
"""
from . import _pointwise_losses, _class_losses, _ctc_loss
from ._pointwise_losses import *  # noqa: F401,F403
from ._class_losses import *  # noqa: F401,F403
from ._ctc_loss import *  # noqa: F401,F403

LOSSES = _pointwise_losses.LOSSES + _class_losses.LOSSES + _ctc_loss.LOSSES
__all__ = ['LOSSES'] + _pointwise_losses.__all__ + _class_losses.__all__ + _ctc_loss.__all__
