"""The examples in module docstrings run (sqlglot-style doctests for optimizer rules).

Every optimizer rule shows what it does on an example; ``registry`` (the ordered list
of rules) has nothing to show and is not a case. A module listed here without an
example fails: a doctest run with nothing to run proves nothing."""
import doctest
import importlib
import pkgutil

import pytest

import rustmemodb
import rustmemodb.optimize


def _modules():
    names = ["rustmemodb"]
    names += [f"rustmemodb.optimize.{m.name}" for m in pkgutil.iter_modules(rustmemodb.optimize.__path__)
              if m.name != "registry"]
    return names


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no docstring example"
    assert result.failed == 0
