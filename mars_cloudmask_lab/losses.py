"""Training loss that ignores pixels without a trustworthy label.

y_true carries two channels: [..., 0] the label (1 cloud, 0 clear), [..., 1] the weight
(0 where the reference is -999 or the MDGM has no data, else 1). The published model trained
those pixels as "clear"; here they contribute nothing to the loss or its gradient.
"""
import keras
from keras import ops

_EPS = 1e-6


@keras.saving.register_keras_serializable(package="mars_cloudmask")
def masked_bce(y_true, y_pred):
    label, weight = y_true[..., 0:1], y_true[..., 1:2]
    p = ops.clip(y_pred, _EPS, 1 - _EPS)
    bce = -(label * ops.log(p) + (1 - label) * ops.log(1 - p))
    return ops.sum(weight * bce) / ops.maximum(ops.sum(weight), 1.0)


@keras.saving.register_keras_serializable(package="mars_cloudmask")
def masked_dice(y_true, y_pred):
    label, weight = y_true[..., 0:1], y_true[..., 1:2]
    inter = ops.sum(weight * label * y_pred)
    total = ops.sum(weight * label) + ops.sum(weight * y_pred)
    return 1.0 - (2.0 * inter + 1.0) / (total + 1.0)


@keras.saving.register_keras_serializable(package="mars_cloudmask")
def masked_bce_dice(y_true, y_pred):
    return masked_bce(y_true, y_pred) + masked_dice(y_true, y_pred)


LOSSES = {"bce": masked_bce, "dice": masked_dice, "bce+dice": masked_bce_dice}
