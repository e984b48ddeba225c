"""The Python API's misuses named in issue 9, one by one: each raises an ``archspec.ArgumentError`` (a
SpecError) whose one-line message names the function, the argument, what was given and what is accepted.
(tests/property/test_api_argument_properties.py generates the rest.)"""

from __future__ import annotations

import re

import pytest

import archspec

MISUSES = [
    # (call, the message archspec should print)
    (
        lambda: archspec.analyze("lenet5", batch=10**5000),
        "archspec.analyze: error: batch: expected an int from 1 to 2,147,483,647, got an int of 5,001 digits",
    ),
    (
        lambda: archspec.analyze("lenet5", batch=0),
        "archspec.analyze: error: batch: expected an int from 1 to 2,147,483,647, got 0",
    ),
    (
        lambda: archspec.analyze("lenet5", batch=True),
        "archspec.analyze: error: batch: expected an int from 1 to 2,147,483,647, got True",
    ),
    (
        lambda: archspec.analyze("lenet5", batch=8.0),
        "batch: expected an int from 1 to 2,147,483,647, got 8.0 (a float) — write 8, an int",
    ),
    (
        lambda: archspec.analyze("lenet5", input_shape=3),
        "archspec.analyze: error: input_shape: expected [C, *spatial] "
        "with 0 to 3 spatial dims (a list or tuple of ints) or None, got 3",
    ),
    (
        lambda: archspec.analyze("lenet5", input_shape="1,32,32"),
        "input_shape: expected [C, *spatial] with 0 to 3 "
        "spatial dims (a list or tuple of ints) or None, got '1,32,32' (a str)",
    ),
    (
        lambda: archspec.analyze("lenet5", input_shape=[1, 32.0, 32]),
        "archspec.analyze: error: input_shape[1]: expected an int from 1 to 2,147,483,647, got 32.0 (a float)",
    ),
    (
        lambda: archspec.analyze("lenet5", input_shape=[1, 32, 32, 32, 32]),
        "input_shape: expected [C, *spatial] with 0 to 3 spatial dims (a list or tuple of ints), got 5 dims",
    ),
    (
        lambda: archspec.expand("lenet5", max_nodes="10"),
        "archspec.expand: error: max_nodes: expected an int >= 1, got '10' (a str)",
    ),
    (
        lambda: archspec.expand("lenet5", max_nodes=None),
        "archspec.expand: error: max_nodes: expected an int >= 1, got None",
    ),
    (
        lambda: archspec.expand("lenet5", max_nodes=-5),
        "archspec.expand: error: max_nodes: expected an int >= 1, got -5 — pass e.g. max_nodes=100_000",
    ),
    (
        lambda: archspec.load("lenet5", overrides="x=1"),
        "archspec.load: error: overrides: expected a dict of param names to values, or None, got 'x=1' (a str)",
    ),
    (
        lambda: archspec.load("lenet5", overrides={1: 2}),
        "archspec.load: error: overrides: keys are param names (strings), got the key 1",
    ),
    (
        lambda: archspec.load("lenet5", overrides=[]),
        "archspec.load: error: overrides: expected a dict of param names to values, or None, got a list",
    ),
    (
        lambda: archspec.load("lenet5", limits="x"),
        "archspec.load: error: limits: expected a LoadLimits or None, got 'x' (a str)",
    ),
    (
        lambda: archspec.load("lenet5", limits=archspec.LoadLimits(max_bytes=-1)),
        "archspec.load: error: limits.max_bytes: expected an int >= 1, got -1",
    ),
    (
        lambda: archspec.load(""),
        "archspec.load: error: source: is an empty string: it names no file (and is not read as the current directory)",
    ),
    (
        lambda: archspec.load(b"lenet5"),
        "archspec.load: error: source: expected a file path, a bundled spec's name, a "
        "dict or an archspec Spec, got b'lenet5' (bytes)",
    ),
    (lambda: archspec.load("net\0.yaml"), "archspec.load: error: source: 'net\\x00.yaml' holds a NUL character"),
    (
        lambda: archspec.analyze(None),
        "archspec.analyze: error: spec: expected a file path, a bundled spec's name, a "
        "dict or an archspec Spec, got None",
    ),
    (
        lambda: archspec.load_checkpoint(None),
        "archspec.load_checkpoint: error: path: expected a file path, got None — pass e.g. path='vgg16.pt'",
    ),
    (lambda: archspec.load_checkpoint(""), "archspec.load_checkpoint: error: path: is an empty string"),
    (
        lambda: archspec.analyze("lenet5", train="yes"),
        "archspec.analyze: error: train: expected True or False, got 'yes' (a str) — pass train=True or train=False",
    ),
    (lambda: archspec.analyze("lenet5", train=1), "archspec.analyze: error: train: expected True or False, got 1"),
    (
        lambda: archspec.compile("lenet5", in_place="no"),
        "archspec.compile: error: in_place: expected True or False, got 'no' (a str)",
    ),
    (
        lambda: archspec.load_weights_in_order("lenet5", {}),
        "archspec.load_weights_in_order: error: target: expected a torch.nn.Module, got 'lenet5' (a str)",
    ),
]


@pytest.mark.parametrize(("call", "message"), MISUSES, ids=[m.split(": error: ")[-1][:40] for _, m in MISUSES])
def test_each_misuse_names_its_argument(call, message):
    with pytest.raises(archspec.ArgumentError) as caught:
        call()
    assert message in str(caught.value)
    assert isinstance(caught.value, archspec.SpecError)


def test_an_input_shape_of_other_dims_is_located_at_the_spec_input():
    """The shape disagrees with the spec, not just with the rules: the error points at the spec's 'input'."""
    with pytest.raises(archspec.ArgumentError) as caught:
        archspec.analyze("lenet5", input_shape=[1, 32])
    assert str(caught.value) == (
        "<archspec>/specs/lenet5.yaml:10:8: error: input: input_shape=[1, 32] has 1 spatial "
        "dims but the spec is written for 2 ([1, 32, 32]) — keep the number of dimensions"
    )
    assert caught.value.argument == "input_shape"


def test_a_name_too_long_for_the_file_system_is_an_error_about_that_file():
    with pytest.raises(archspec.SpecError) as caught:
        archspec.load("a" * 5000)
    message = str(caught.value)
    assert message.startswith(
        "a" * 100 + "… (5,000 characters): error: the path is longer than the operating system allows"
    )
    assert len(message) < 300  # the name is shortened, not echoed 5,000 characters long


def test_overrides_cannot_be_applied_to_a_loaded_spec():
    spec = archspec.load("lenet5")
    with pytest.raises(archspec.ArgumentError, match="overrides: apply when a spec is read"):
        archspec.load(spec, overrides={"num_classes": 3})
    assert archspec.load(spec, overrides={}) is spec


def test_compile_refuses_input_shape_with_a_network():
    """Ignoring it would compile a module for another input than the caller asked for."""
    network = archspec.expand("lenet5")
    expected = "archspec.compile: error: input_shape: cannot be given with an expanded Network"
    with pytest.raises(archspec.ArgumentError, match=re.escape(expected)):
        archspec.compile(network, input_shape=[1, 64, 64])


def test_load_weights_in_order_checks_source_and_strict_dtype():
    model = archspec.compile("lenet5")
    expected = "source: expected a torch.nn.Module or a state dict, got 3"
    with pytest.raises(archspec.ArgumentError, match=re.escape(expected)):
        archspec.load_weights_in_order(model, 3)
    with pytest.raises(archspec.ArgumentError, match=re.escape("strict_dtype: expected True or False, got 'yes'")):
        archspec.load_weights_in_order(model, model, strict_dtype="yes")
    archspec.load_weights_in_order(model, archspec.compile("lenet5").state_dict(), strict_dtype=False)
