"""The examples in module docstrings run (sqlglot-style doctests for optimizer rules)."""
import doctest
import importlib
import pkgutil

import pytest

import rustmemodb
import rustmemodb.optimize


def _modules():
    names = ["rustmemodb"]
    names += [f"rustmemodb.optimize.{m.name}" for m in pkgutil.iter_modules(rustmemodb.optimize.__path__)]
    return names


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
