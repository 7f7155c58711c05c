from __future__ import annotations

import pytest

from tests.core.test_settings import run_python


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ENERGYDASH_BALANCE_REFRESH_MINUTES", "0", "must be at least 1"),
        ("ENERGYDASH_REFRESH_FAILING_ALERT_MINUTES", "soon", "must be an integer"),
        ("ENERGYDASH_ALERT_MARGIN_PERCENT", "-5", "between 0 and 1000"),
    ],
)
def test_a_bad_money_view_setting_stops_start_up_with_its_name(name, value, message):
    result = run_python(["manage.py", "check"], **{name: value})
    assert result.returncode != 0
    assert name in result.stderr and message in result.stderr
