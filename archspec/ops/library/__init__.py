"""Every primitive op, one module each; importing this package registers them all."""

from archspec.ops.library import (  # noqa: F401
    activations,
    adaptive_pool,
    avgpool,
    batchnorm,
    conv,
    conv_transpose,
    dropout,
    embedding,
    flatten,
    global_pool,
    linear,
    lrn,
    maxpool,
    self_attention,
    tensors,
    upsample,
    window_attention,
)
