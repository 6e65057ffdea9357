"""minigrad.testing: test your own layers' gradients the way minigrad tests its own.

- ``assert_gradients_close(fn, inputs)``: ``mg.gradcheck`` as a plain assertion, so a wrong
  gradient fails a test with gradcheck's diagnostics in pytest's report;
- ``minigrad.testing.strategies``: hypothesis strategies for shapes, broadcastable pairs,
  tensors and valid convolution configurations (needs hypothesis: the ``test`` extra);
- ``minigrad.testing.plugin``: a pytest plugin, registered on install, giving a seeded
  ``gradcheck`` fixture and the ``--gradcheck-seed`` / ``--gradcheck-examples`` options.

The strategies are not imported here, so that ``minigrad.testing`` works without hypothesis.
"""

from minigrad.testing.assertions import assert_gradients_close

__all__ = ["assert_gradients_close"]
