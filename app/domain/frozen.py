"""`quick_init`: a cheaper constructor for the frozen, slotted dataclasses the folds build.

Why: a frozen dataclass's generated `__init__` stores each field with
`object.__setattr__(self, "name", value)`, which looks the attribute up by name
every time. The folds build a new state object (and often a new authorization,
job or date) for every event, and the service builds the ledger view after most
appends, so those stores were a fifth of a fold's time. `quick_init` gives the
class an `__init__` with the same signature and defaults that stores each field
through its slot's descriptor, found once when the class is defined.

It also gives the class `changed(field=value, ...)`, a copy with the named
fields replaced (what `dataclasses.replace` does, at the cost of the
constructor), so each fold step names only what its event changes.

Nothing else changes: the class is still a frozen dataclass (assigning an
attribute raises FrozenInstanceError), and `dataclasses.fields`/`replace`,
equality, repr, pickling and `pydantic.TypeAdapter` behave as before. Only
plain fields are supported (no `__post_init__`, InitVar, `init=False` or
keyword-only fields); anything else is refused when the class is defined.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any, TypeVar

T = TypeVar("T")

_MISSING = object()  # stands for "not given" where the default is a factory
_KEEP = object()  # stands for "not changed" in `changed(...)`


def quick_init(cls: type[T]) -> type[T]:
    """Replace a frozen, slotted dataclass's `__init__` with a cheaper one (see the module)."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__}: quick_init needs @dataclass(frozen=True, slots=True) under it")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: quick_init does not run __post_init__")
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    generated = list(inspect.signature(cls.__init__).parameters.values())[1:]
    if [p.name for p in generated] != [f.name for f in fields] or any(
        p.kind is not inspect.Parameter.POSITIONAL_OR_KEYWORD for p in generated
    ):
        raise TypeError(f"{cls.__name__}: quick_init supports plain fields only")
    namespace: dict[str, Any] = {"_MISSING": _MISSING}
    arguments: list[str] = []
    body: list[str] = []
    for f in fields:
        value = f.name
        if f.default is not dataclasses.MISSING:
            namespace[f"_default_{f.name}"] = f.default
            arguments.append(f"{f.name}=_default_{f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            namespace[f"_factory_{f.name}"] = f.default_factory
            arguments.append(f"{f.name}=_MISSING")
            value = f"_factory_{f.name}() if {f.name} is _MISSING else {f.name}"
        else:
            arguments.append(f.name)
        namespace[f"_set_{f.name}"] = cls.__dict__[f.name].__set__  # the slot's descriptor
        body.append(f"    _set_{f.name}(self, {value})")
    source = f"def __init__(self, {', '.join(arguments)}):\n" + ("\n".join(body) or "    pass")
    # `changed(field=value, ...)`: a copy with some fields replaced, as `dataclasses.replace`
    # but keyword-only and without its per-call field walk, so a fold names only what an
    # event changes instead of repeating every field of the state.
    keep = [f"{f.name}=_KEEP" for f in fields]
    copied = [f"    _set_{f.name}(new, self.{f.name} if {f.name} is _KEEP else {f.name})" for f in fields]
    namespace["_KEEP"] = _KEEP
    namespace["_new"] = object.__new__
    namespace["_cls"] = cls
    source += (
        f"\n\ndef changed(self, *, {', '.join(keep)}):\n    new = _new(_cls)\n"
        + "\n".join(copied)
        + "\n    return new\n"
    )
    exec(source, namespace)  # the way `dataclasses` builds its own __init__
    for name in ("__init__", "changed"):
        method = namespace[name]
        method.__qualname__ = f"{cls.__qualname__}.{name}"
        method.__module__ = cls.__module__
        setattr(cls, name, method)
    return cls
