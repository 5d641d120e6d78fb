"""Every provider's spec names its functions lazily (by module and attribute), so nothing checks them until a
command or a scheduled job calls one. These tests resolve each of them now: a misspelt module or name, or a
name that points at a function taking other arguments than its spec field passes, fails here rather than in
the scheduler at night."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Iterator
from dataclasses import fields
from typing import Any

import pytest

from providers import registry
from providers.spec import ExtraJob, LazyFunction, ProviderSpec, lazy

# Functions every provider has: each one is named lazily, so that reading the specs (every command does)
# loads no provider's client or jobs.
ALWAYS_LAZY = ("sync", "backfill", "org_ids", "probe")


def _positional_arguments(owner: type, field_name: str) -> int:
    """How many positional arguments the spec field's declared function type is called with."""
    hint = typing.get_type_hints(owner)[field_name]
    callables = [h for h in (hint, *typing.get_args(hint)) if typing.get_origin(h) is Callable]
    assert callables, f"{owner.__name__}.{field_name} is not declared as a function"
    parameters, _returns = typing.get_args(callables[0])
    return len(parameters)


def _lazy_functions(spec: ProviderSpec[Any]) -> Iterator[tuple[str, LazyFunction, int]]:
    for f in fields(spec):
        value = getattr(spec, f.name)
        if isinstance(value, LazyFunction):
            yield f.name, value, _positional_arguments(ProviderSpec, f.name)
    for job in spec.extra_jobs:
        if isinstance(job.run, LazyFunction):
            yield f"extra_jobs[{job.id}].run", job.run, _positional_arguments(ExtraJob, "run")


CASES = [
    pytest.param(spec, name, function, arguments, id=f"{spec.id}.{name}")
    for spec in registry.providers()
    for name, function, arguments in _lazy_functions(spec)
]


@pytest.mark.parametrize(("spec", "name", "function", "arguments"), CASES)
def test_each_lazy_function_resolves_to_a_function_taking_its_fields_arguments(
    spec: ProviderSpec[Any], name: str, function: LazyFunction, arguments: int
) -> None:
    target = function.resolve()
    assert callable(target), f"{spec.id}.{name}: {function!r} is not a function"
    try:
        inspect.signature(target).bind(*[None] * arguments)
    except TypeError as exc:
        pytest.fail(f"{spec.id}.{name}: {function!r} cannot be called with {arguments} arguments ({exc})")


@pytest.mark.parametrize("spec", registry.providers(), ids=lambda spec: spec.id)
def test_every_provider_names_its_jobs_and_probe_lazily(spec: ProviderSpec[Any]) -> None:
    eager = [name for name in ALWAYS_LAZY if not isinstance(getattr(spec, name), LazyFunction)]
    assert eager == [], f"{spec.id} imports these at start-up; name them with lazy(module, name)"
    # sync, backfill and org_ids take the same arguments, so only the names tell a swapped pair apart.
    misnamed = [name for name in ALWAYS_LAZY if getattr(spec, name).name != name]
    assert misnamed == [], f"{spec.id}: these name a function of another name: {misnamed}"


def test_a_lazy_function_forwards_its_arguments_and_keeps_what_it_found() -> None:
    dumps = lazy("json", "dumps")
    assert dumps({"b": 1, "a": 2}, sort_keys=True) == '{"a": 2, "b": 1}'
    assert dumps.resolve() is dumps.resolve()
    assert repr(dumps) == "lazy('json', 'dumps')"


def test_a_misspelt_lazy_name_fails_when_resolved() -> None:
    with pytest.raises(AttributeError):
        lazy("json", "dump_s").resolve()
    with pytest.raises(ModuleNotFoundError):
        lazy("providers.no_such_provider.jobs", "sync").resolve()
