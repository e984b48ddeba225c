"""The registries of ops and containers: both register by name through a class decorator; a name taken
twice (by two ops, two containers, or one of each) is an error; lookups suggest near misses.

Installed plugins (:mod:`archspec.ops.plugins`) register through the same decorators. They are loaded on the
first lookup of a name that is not a built-in one, and by the functions that list everything (:func:`all_ops`,
:func:`all_containers`); :func:`loaded_ops` is what is registered so far, for the pipeline, which has already
looked up every name a spec uses (:func:`resolve_name`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from archspec.ops import plugins
from archspec.ops.base import Op

if TYPE_CHECKING:  # the containers import this module to register themselves
    from archspec.ops.containers.base import Container

OPS: dict[str, Op] = {}
CONTAINERS: dict[str, Container] = {}

OpClass = TypeVar("OpClass", bound=type[Op])
ContainerClass = TypeVar("ContainerClass", bound="type[Container]")


def register(cls: OpClass) -> OpClass:
    """Class decorator: make the op available to specs under ``cls.name``."""
    _check_free(cls.name, "op")
    OPS[cls.name] = cls()
    return cls


def register_container(cls: ContainerClass) -> ContainerClass:
    """Class decorator: make the container available to specs under ``cls.name``."""
    _check_free(cls.name, "container")
    CONTAINERS[cls.name] = cls()
    return cls


def resolve_name(*names: str) -> None:
    """Make sure that each op or container of ``names`` is registered if any plugin has it: a name that is not a
    built-in one loads the plugins (once per process), so a spec of built-in ops never scans for them."""
    _ensure_loaded()
    _ensure_containers_loaded()
    if any(name not in OPS and name not in CONTAINERS for name in names):
        plugins.load_plugins()


def get_op(name: str) -> Op | None:
    resolve_name(name)
    return OPS.get(name)


def all_ops() -> dict[str, Op]:
    """Every op, the plugins' included."""
    _ensure_loaded()
    plugins.load_plugins()
    return dict(OPS)


def loaded_ops() -> dict[str, Op]:
    """The ops registered so far: the built-in ones and those of plugins already loaded."""
    _ensure_loaded()
    return dict(OPS)


def get_container(name: str) -> Container | None:
    resolve_name(name)
    return CONTAINERS.get(name)


def all_containers() -> dict[str, Container]:
    """Every container (the plugins' included), in the order ``archspec list containers`` shows them."""
    _ensure_containers_loaded()
    plugins.load_plugins()
    return dict(sorted(CONTAINERS.items(), key=lambda pair: (pair[1].order, pair[0])))


def _check_free(name: str, kind: str) -> None:
    taken_by = None
    if name in OPS or name in CONTAINERS:
        taken = "op" if name in OPS else "container"
        owner = plugins.origin(name)
        taken_by = f"the built-in {taken}" if owner == "built-in" else f"the {taken} of {owner}"
    plugins.claim(name, kind, taken_by)


def _ensure_loaded() -> None:
    # Here, not at the top: every module of the library imports this one to register its op, so the registry
    # imports the library on the first lookup (importing the library registers every op).
    import archspec.ops.library  # noqa: F401


def _ensure_containers_loaded() -> None:
    import archspec.ops.containers  # noqa: F401  (importing the package registers every container)
