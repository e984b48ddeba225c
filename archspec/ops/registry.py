"""The registries of ops and containers: both register by name through a class decorator; a name taken
twice (by two ops, two containers, or one of each) is an error; lookups suggest near misses."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from archspec.ops.base import Op

if TYPE_CHECKING:  # the containers import this module to register themselves
    from archspec.ops.containers.base import Container

OPS: dict[str, Op] = {}
CONTAINERS: dict[str, Container] = {}

OpClass = TypeVar("OpClass", bound=type[Op])
ContainerClass = TypeVar("ContainerClass", bound="type[Container]")


def register(cls: OpClass) -> OpClass:
    """Class decorator: make the op available to specs under ``cls.name``."""
    _check_free(cls.name)
    OPS[cls.name] = cls()
    return cls


def register_container(cls: ContainerClass) -> ContainerClass:
    """Class decorator: make the container available to specs under ``cls.name``."""
    _check_free(cls.name)
    CONTAINERS[cls.name] = cls()
    return cls


def get_op(name: str) -> Op | None:
    _ensure_loaded()
    return OPS.get(name)


def all_ops() -> dict[str, Op]:
    _ensure_loaded()
    return dict(OPS)


def get_container(name: str) -> Container | None:
    _ensure_containers_loaded()
    return CONTAINERS.get(name)


def all_containers() -> dict[str, Container]:
    """Every container, in the order ``archspec list containers`` shows them."""
    _ensure_containers_loaded()
    return dict(sorted(CONTAINERS.items(), key=lambda pair: (pair[1].order, pair[0])))


def _check_free(name: str) -> None:
    if name in OPS or name in CONTAINERS:
        raise RuntimeError(f"op or container {name!r} is registered twice")


def _ensure_loaded() -> None:
    # Here, not at the top: every module of the library imports this one to register its op, so the registry
    # imports the library on the first lookup (importing the library registers every op).
    import archspec.ops.library  # noqa: F401


def _ensure_containers_loaded() -> None:
    import archspec.ops.containers  # noqa: F401  (importing the package registers every container)
