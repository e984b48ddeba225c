"""Every primitive op, one module each; importing this package registers them all."""

from archspec.ops.library import (  # noqa: F401
    activations,
    adaptive_pool,
    avgpool,
    batchnorm,
    conv,
    conv_transpose,
    dropout,
    flatten,
    global_pool,
    layout,
    linear,
    lrn,
    maxpool,
    selection,
    tensors,
    upsample,
)
