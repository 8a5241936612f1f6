"""EventBridge event pattern semantics, through TestEventPattern (and one rule, end to end).

Sources: EventBridge user guide "Amazon EventBridge event patterns" and its pages on arrays, null
values and empty strings, and content filtering (prefix, suffix, equals-ignore-case, anything-but,
numeric, IP address, exists, wildcard, $or); each case below restates one documented rule with an
event of our own. Their outcomes agree with the AWS-validated cases of LocalStack's
tests/aws/services/events/test_events_patterns.py::TestEventPattern::test_event_pattern (named in the
`ids`, "_NEG" meaning no match), whose results are recorded in test_events_patterns.snapshot.json /
.validation.json.
"""

import json

import pytest

from events_helpers import ACCOUNT, SKIP_SECOND_PASS

pytestmark = SKIP_SECOND_PASS


def _event(**top) -> dict:
    e = {
        "id": "7f1e9c1a-0000-4000-8000-000000000001",
        "source": "com.example.orders",
        "detail-type": "Order Placed",
        "account": ACCOUNT,
        "region": "us-east-1",
        "time": "2024-01-02T03:04:05Z",
        "resources": [],
        "detail": {},
    }
    e.update(top)
    return e


def _d(**detail) -> dict:
    return _event(detail=detail)


CASES = [
    # (id, event, pattern, expected)
    ("exact-source", _event(), {"source": ["com.example.orders"]}, True),
    ("one-of-values", _event(), {"source": ["a", "com.example.orders", "b"]}, True),
    ("key_case_sensitive_NEG", _d(my_key="v"), {"detail": {"MY_KEY": ["v"]}}, False),
    ("arrays: any element", _event(resources=["arn:x", "arn:y"]), {"resources": ["arn:y", "arn:z"]}, True),
    ("arrays_NEG", _event(resources=["arn:x"]), {"resources": ["arn:y", "arn:z"]}, False),
    ("boolean", _d(flag=False), {"detail": {"flag": [False]}}, True),
    ("boolean_NEG", _d(flag=False), {"detail": {"flag": [True]}}, False),
    ("null_value", _d(r=None), {"detail": {"r": [None]}}, True),
    ("null_value_NEG (string null)", _d(r="null"), {"detail": {"r": [None]}}, False),
    ("string_empty", _d(v=""), {"detail": {"v": [""]}}, True),
    ("numeric-string_NEG", _d(n="300"), {"detail": {"n": [{"numeric": [">", 100]}]}}, False),
    ("numeric-int-float", _d(n=101.0), {"detail": {"n": [{"numeric": [">", 100]}]}}, True),
    ("content_numeric_and", _d(c=3, x=301.8), {"detail": {"c": [{"numeric": [">", 0, "<=", 5]}], "x": [{"numeric": ["=", 301.8]}]}}, True),
    ("numeric range NEG", _d(c=6), {"detail": {"c": [{"numeric": [">", 0, "<=", 5]}]}}, False),
    ("content_prefix", _d(t="2022-07-13T13:48:01Z"), {"detail": {"t": [{"prefix": "2022-07-13"}]}}, True),
    ("content_prefix_NEG", _d(t="2021-07-13"), {"detail": {"t": [{"prefix": "2022-07-13"}]}}, False),
    ("content_suffix", _d(f="image.png"), {"detail": {"f": [{"suffix": ".png"}]}}, True),
    ("content_ignorecase", _d(s="EC2 Instance"), {"detail": {"s": [{"equals-ignore-case": "ec2 instance"}]}}, True),
    ("content_anything_but_string", _d(state="running"), {"detail": {"state": [{"anything-but": "initializing"}]}}, True),
    ("content_anything_but_string_NEG", _d(state="initializing"), {"detail": {"state": [{"anything-but": "initializing"}]}}, False),
    ("content_anything_but_string_missing_NEG", _d(), {"detail": {"state": [{"anything-but": "initializing"}]}}, False),
    ("content_anything_but_number_list", _d(x=999), {"detail": {"x": [{"anything-but": [100, 200, 300]}]}}, True),
    ("content_anything_prefix", _d(state="post-init"), {"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}, True),
    ("content_anything_prefix_NEG", _d(state="init-1"), {"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}, False),
    ("content_exists", _d(state="x"), {"detail": {"state": [{"exists": True}]}}, True),
    ("content_exists_NEG", _d(other=1), {"detail": {"state": [{"exists": True}]}}, False),
    ("content_exists_false", _d(other=1), {"detail": {"state": [{"exists": False}]}}, True),
    ("exists_list_empty_NEG", _event(resources=[]), {"resources": [{"exists": True}]}, False),
    ("content_ip_address", _d(ip="10.0.0.255"), {"detail": {"ip": [{"cidr": "10.0.0.0/24"}]}}, True),
    ("content_ip_address_NEG", _d(ip="10.0.1.1"), {"detail": {"ip": [{"cidr": "10.0.0.0/24"}]}}, False),
    ("content_wildcard_repeating", _d(f="/Users/me/dir/doc.txt"), {"detail": {"f": [{"wildcard": "/Users/*/dir/doc.txt"}]}}, True),
    ("content_wildcard_repeating_NEG", _d(f="/Users/me/other/doc.txt"), {"detail": {"f": [{"wildcard": "/Users/*/dir/doc.txt"}]}}, False),
    ("complex_or", _d(c=0, d=0), {"detail": {"$or": [{"c": [{"numeric": [">", 0]}]}, {"d": [{"numeric": ["<", 10]}]}]}}, True),
    ("complex_or_NEG", _d(c=0, d=20), {"detail": {"$or": [{"c": [{"numeric": [">", 0]}]}, {"d": [{"numeric": ["<", 10]}]}]}}, False),
    ("nested_json_NEG (detail as a JSON string)", _event(detail='{"k": "v"}'), {"detail": {"k": ["v"]}}, False),
    ("nested object", _d(state={"status": "running"}), {"detail": {"state": {"status": ["running"]}}}, True),
    ("all fields must match", _event(), {"source": ["com.example.orders"], "detail-type": ["Other"]}, False),
]


@pytest.mark.parametrize("event,pattern,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_pattern(events, event, pattern, expected):
    resp = events.test_event_pattern(Event=json.dumps(event), EventPattern=json.dumps(pattern))
    assert resp["Result"] is expected
