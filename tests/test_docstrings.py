"""Docstring examples run (doctest over every module of the installed fem_reg), and none
is skipped: an example that cannot run is not an example."""

import doctest
import importlib
import pkgutil

import pytest

import fem_reg

MODULES = sorted(name for _, name, _ in pkgutil.walk_packages(fem_reg.__path__, "fem_reg."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder()
    examples = [e for test in finder.find(module) for e in test.examples]
    assert not [e.source for e in examples if doctest.SKIP in e.options], \
        f"{name}: a skipped docstring example"
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{name}: {result.failed} docstring example(s) failed"
