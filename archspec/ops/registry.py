"""The op registry: ops register by name; a duplicate is an error; lookups suggest near misses."""

from __future__ import annotations

from typing import TypeVar

from archspec.ops.base import Op

OPS: dict[str, Op] = {}

OpClass = TypeVar("OpClass", bound=type[Op])


def register(cls: OpClass) -> OpClass:
    """Class decorator: make the op available to specs under ``cls.name``."""
    if cls.name in OPS:
        raise RuntimeError(f"op {cls.name!r} is registered twice")
    OPS[cls.name] = cls()
    return cls


def get_op(name: str) -> Op | None:
    _ensure_loaded()
    return OPS.get(name)


def all_ops() -> dict[str, Op]:
    _ensure_loaded()
    return dict(OPS)


def _ensure_loaded() -> None:
    # Here, not at the top: every module of the library imports this one to register its op, so the registry
    # imports the library on the first lookup (importing the library registers every op).
    import archspec.ops.library  # noqa: F401
