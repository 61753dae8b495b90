"""Options (nncs/loop/options.py): every numeric field refuses values that are not finite numbers, huge ints too."""

import pytest

from nncs.loop.options import Options


@pytest.mark.parametrize("field", ["time_step", "zonotope_order", "fit_tol", "timeout"])
@pytest.mark.parametrize("value", [10**400, float("nan"), float("inf"), "1", True])
def test_number_fields_refuse_non_finite_and_huge_values_with_a_short_message(field, value):
    with pytest.raises(ValueError, match=f"options.{field}") as exc:
        Options(**{field: value})
    assert len(str(exc.value)) < 200


@pytest.mark.parametrize("value", [0, -1.0])
def test_timeout_must_be_positive(value):
    with pytest.raises(ValueError, match="timeout"):
        Options(timeout=value)
    assert Options(timeout=2.5).timeout == 2.5 and Options().timeout is None
