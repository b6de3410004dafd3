"""bot/teams_adapter.py looks msrest's safe status codes up in a set (botbuilder builds a retry policy
for every activity): the policy retries the same codes as msrest's own list gives."""

from __future__ import annotations

from msrest.universal_http.requests import ClientRetryPolicy

import bot.teams_adapter  # noqa: F401  (makes the change)

MSREST_SAFE = [i for i in range(500) if i != 408] + [501, 505]  # msrest 0.7.1's list


def test_the_retry_policy_retries_the_same_codes():
    assert isinstance(ClientRetryPolicy.safe_codes, frozenset)
    assert ClientRetryPolicy.safe_codes == frozenset(MSREST_SAFE)
    policy = ClientRetryPolicy().policy
    assert policy.status_forcelist == [i for i in range(999) if i not in MSREST_SAFE]
    assert policy.status_forcelist[:6] == [408, 500, 502, 503, 504, 506]
    assert policy.total == 3
