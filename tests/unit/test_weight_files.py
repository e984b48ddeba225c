"""``archspec.compile(spec, weights=...)`` (issue 12 §1): a state dict from a local file (``.pth``/``.pt`` through
``torch.load(weights_only=True)``, torch's older format, ``.safetensors``) or a dict, strict by default, with a
bounded report of what does not fit. Ground truth: torchvision's resnet18, whose state dict loads into the
bundled spec and gives torchvision's outputs."""

from __future__ import annotations

import socket
import sys
import warnings

import pytest
import torch
import torchvision

import archspec
from archspec.errors import MAX_SHOWN_DIAGNOSTICS

TINY = {
    "archspec": 1,
    "name": "tiny",
    "input": [2, 6, 6],
    "layers": [
        {"conv": {"out": 4, "kernel": 3}},
        "batchnorm",
        "relu",
        "global_avgpool",
        "flatten",
        {"linear": {"out": 3}},
    ],
}


@pytest.fixture(scope="module")
def torchvision_resnet18():
    """torchvision's resnet18 with seeded weights and batch-norm statistics that are not the initial ones (so
    that a buffer left unloaded changes the outputs), in eval mode."""
    torch.manual_seed(0)
    model = torchvision.models.resnet18()
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name.endswith("running_mean"):
                tensor.normal_(0, 0.1)
            elif name.endswith("running_var"):
                tensor.uniform_(0.5, 1.5)
            elif name.endswith("num_batches_tracked"):
                tensor.fill_(7)
    return model.eval()


@pytest.fixture(scope="module")
def saved(torchvision_resnet18, tmp_path_factory):
    """resnet18's state dict in every format archspec reads: name → path."""
    from safetensors.torch import save_file

    folder = tmp_path_factory.mktemp("weights")
    state = torchvision_resnet18.state_dict()
    paths = {
        "pth": folder / "resnet18.pth",
        "legacy": folder / "resnet18_legacy.pt",
        "safetensors": folder / "resnet18.safetensors",
        "wrapped": folder / "resnet18_training.pth",
    }
    torch.save(state, paths["pth"])
    torch.save(state, paths["legacy"], _use_new_zipfile_serialization=False)
    save_file(dict(state), paths["safetensors"])
    torch.save({"model": state, "optimizer": {"state": {}, "param_groups": []}, "epoch": 90}, paths["wrapped"])
    return paths


def outputs(model, x):
    with torch.no_grad():
        return model.eval()(x)


@pytest.mark.parametrize("kind", ["pth", "legacy", "safetensors", "wrapped"])
def test_resnet18_loaded_from_a_file_computes_what_torchvision_computes(kind, saved, torchvision_resnet18):
    model = archspec.compile("resnet18", weights=saved[kind])
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    assert torch.equal(outputs(model, x), outputs(torchvision_resnet18, x))
    for key, tensor in torchvision_resnet18.state_dict().items():
        assert torch.equal(model.state_dict()[key], tensor), key


def test_a_dict_of_tensors_loads_the_same(torchvision_resnet18):
    model = archspec.compile("resnet18", weights=torchvision_resnet18.state_dict())
    x = torch.randn(1, 3, 48, 48)
    assert torch.equal(outputs(model, x), outputs(torchvision_resnet18, x))


def test_an_archspec_checkpoint_given_as_weights_loads_its_state_dict(tmp_path):
    from archspec.backend.checkpoint import save

    torch.manual_seed(3)
    source = archspec.compile(TINY)
    save(source, archspec.load(TINY), tmp_path / "tiny.pt")
    model = archspec.compile(TINY, weights=tmp_path / "tiny.pt")
    for key, tensor in source.state_dict().items():
        assert torch.equal(model.state_dict()[key], tensor), key


def test_a_missing_num_batches_tracked_is_allowed_as_torch_allows_it(torchvision_resnet18):
    state = {k: v for k, v in torchvision_resnet18.state_dict().items() if not k.endswith("num_batches_tracked")}
    model = archspec.compile("resnet18", weights=state)
    assert model.state_dict()["bn1.num_batches_tracked"].item() == 0  # the module's own
    assert torch.equal(model.state_dict()["bn1.running_var"], state["bn1.running_var"])


def test_strict_refuses_and_non_strict_loads_what_fits(torchvision_resnet18):
    state = dict(torchvision_resnet18.state_dict())
    state["head.weight"] = state.pop("fc.weight")  # renamed: same shape
    state["fc.bias"] = torch.zeros(10)  # another shape
    with pytest.raises(archspec.SpecError) as info:
        archspec.compile("resnet18", weights=state)
    text = str(info.value)
    assert "archspec.compile: error: weights: the weights do not fit the module" in text
    assert (
        "the module's 'fc.weight' (1000×512 float32) is not in the dict — did you mean the dict's 'head.weight'?"
        in text
    )
    assert "'fc.bias' is 10 float32 in the dict but 1000 float32 in the module" in text
    assert "strict=False" in text

    torch.manual_seed(5)
    fresh = archspec.compile("resnet18")
    torch.manual_seed(5)
    with pytest.warns(UserWarning, match=r"loaded 120 of the module's 122 entries from the dict") as caught:
        model = archspec.compile("resnet18", weights=state, strict=False)
    assert "the module keeps its own 'fc.bias'" in str(caught[0].message)
    assert torch.equal(model.state_dict()["fc.weight"], fresh.state_dict()["fc.weight"])
    assert torch.equal(model.fc.bias, fresh.fc.bias)
    assert torch.equal(model.conv1.weight, state["conv1.weight"])


def test_strict_refuses_another_type_and_non_strict_converts_floats(torchvision_resnet18):
    half = {k: v.half() if v.is_floating_point() else v for k, v in torchvision_resnet18.state_dict().items()}
    with pytest.raises(archspec.SpecError, match=r"102 entries \('conv1.weight', .*\) hold torch.float16 in the dict"):
        archspec.compile("resnet18", weights=half)
    with pytest.warns(UserWarning, match="converted 102 floating-point tensors"):
        model = archspec.compile("resnet18", weights=half, strict=False)
    assert model.conv1.weight.dtype == torch.float32
    assert torch.equal(model.conv1.weight, half["conv1.weight"].float())


def test_non_strict_still_refuses_weights_none_of_which_fit():
    with pytest.raises(archspec.SpecError, match="no entry of the dict has a name the module has"):
        archspec.compile(TINY, weights={"features.0.weight": torch.zeros(1)}, strict=False)
    prefixed = {f"module.{k}": v for k, v in archspec.compile(TINY).state_dict().items()}
    with pytest.raises(archspec.SpecError, match=r"every key of the dict starts with 'module.' \(as a DataParallel"):
        archspec.compile(TINY, weights=prefixed, strict=False)


def test_a_report_on_thousands_of_keys_is_bounded_and_shares_its_lines(torchvision_resnet18):
    state = dict(torchvision_resnet18.state_dict())
    for key in list(state)[:60]:
        del state[key]
    for index in range(5000):
        state[f"extra.{index}.weight"] = torch.zeros(64)
    with pytest.raises(archspec.SpecError) as info:
        archspec.compile("resnet18", weights=state)
    lines = str(info.value).splitlines()
    assert len(lines) == MAX_SHOWN_DIAGNOSTICS + 1  # the first 50, then one line counting the rest
    missing = sum(not k.endswith("num_batches_tracked") for k in list(torchvision_resnet18.state_dict())[:60])
    assert f"{missing} of the module's 122 entries are not in the dict, 5,000 of the dict's" in lines[0]
    assert sum("is not in the dict" in line for line in lines) == 25  # the summary's 49 lines, shared
    assert sum("is not in the module the spec builds" in line for line in lines) == 24
    assert lines[-1].endswith(
        f"and {missing + 5000 - 49:,} more errors — fix the ones above and check the spec again to see the rest"
    )


def test_the_weights_argument_is_checked_before_anything_is_read(tmp_path):
    cases = [
        ({"weights": 3}, "weights: expected a file path, a state dict (a dict of names to tensors) or None, got 3"),
        ({"weights": ""}, "weights: is an empty string"),
        ({"strict": "no", "weights": {}}, "strict: expected True or False, got 'no' (a str)"),
        ({"strict": False}, "strict: applies to weights=..., and none are given"),
    ]
    for kwargs, message in cases:
        with pytest.raises(archspec.ArgumentError, match=message.replace("(", r"\(").replace(")", r"\)")):
            archspec.compile(tmp_path / "nosuch.yaml", **kwargs)


def test_a_dict_that_is_not_a_state_dict_is_located_at_the_argument():
    with pytest.raises(archspec.SpecError) as info:
        archspec.compile(TINY, weights={"0.weight": [1.0, 2.0]})
    assert str(info.value).startswith(
        'archspec.compile: error: weights["0.weight"]: is a list of 2 entries, not a tensor'
    )
    with pytest.raises(archspec.SpecError, match=r"weights: has the key an int \(3\); a state dict's keys are strings"):
        archspec.compile(TINY, weights={3: torch.zeros(1)})


def test_files_that_are_not_there_or_not_files(tmp_path):
    (tmp_path / "resnet18.pth").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("x")
    cases = {
        tmp_path / "resnet18.pt": "resnet18.pt: error: no such file — did you mean",
        tmp_path / "other.bin": "other.bin: error: no such file — check the path; save the state dict itself",
        tmp_path: "error: is a directory, not a weights file — name a weights file in it (resnet18.pth)",
        "/dev/null": "/dev/null: error: is not a regular file (a pipe or a device)",
    }
    for path, message in cases.items():
        with pytest.raises(archspec.SpecError) as info:
            archspec.compile(TINY, weights=path)
        assert message in str(info.value), str(info.value)
        assert "Traceback" not in str(info.value)


def test_safetensors_without_the_package_says_how_to_get_it(saved, monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors", None)  # `import safetensors` raises ImportError
    monkeypatch.setitem(sys.modules, "safetensors.torch", None)
    with pytest.raises(archspec.SpecError) as info:
        archspec.compile("resnet18", weights=saved["safetensors"])
    assert str(info.value) == (
        f"{saved['safetensors']}: error: is a safetensors file, and reading one needs the safetensors package, which "
        "is not installed — pip install safetensors (or save the weights with torch.save)"
    )
    archspec.compile("resnet18", weights=saved["pth"])  # the other formats need nothing more


def test_loading_weights_never_touches_the_network(saved, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("archspec opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    for kind in ("pth", "safetensors", "wrapped"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # nor does it warn about anything
            archspec.compile("resnet18", weights=saved[kind])
