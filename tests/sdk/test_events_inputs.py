"""EventBridge target input: Input (constant JSON), InputPath, InputTransformer (JSON and string
templates, predefined variables), as delivered into an SQS queue.

Sources: EventBridge user guide "Transforming target input" (InputPathsMap, InputTemplate; a string
template is written in double quotes and is delivered with them; predefined variables
<aws.events.rule-arn>, <aws.events.rule-name>, <aws.events.event.json>), the Target API reference
(Input, InputPath), and AWS-recorded deliveries in LocalStack's
tests/aws/services/events/test_events_inputs.snapshot.json: TestInputPath::
test_put_events_with_input_path (body = detail), test_put_events_with_input_path_max_level_depth
(a string value is delivered as a JSON string, in quotes), TestInputTransformer::
test_put_events_with_input_transformer_input_template_json / _input_template_string (a path that
matches nothing becomes "" in a JSON template and nothing in a string template),
test_input_transformer_predefined_variables, test_input_transformer_nested_keys_replacement.
"""

import json
import re

from events_helpers import (
    SKIP_SECOND_PASS,
    entry,
    new_source,
    pattern_for,
    put_ok,
    rule_arn,
    rule_to_queue,
    wait_one,
)

pytestmark = SKIP_SECOND_PASS

DETAIL = {"command": "update-account", "payload": {"acc_id": "0a787ecb-4015", "sf_id": "baz"}, "n": 7, "valid": True}
DT = "core.update-account-command"


def _deliver(events, sqs, put_rule, queue, **target) -> tuple[str, str, str]:
    """Wires a rule -> queue target with the given input settings, puts one event; returns
    (body, rule name, source)."""
    src = new_source()
    name, _, _ = rule_to_queue(events, sqs, put_rule, queue, pattern_for(src), **target)
    put_ok(events, [entry(src, DT, DETAIL)])
    return wait_one(sqs, queue)["Body"], name, src


def test_constant_input(events, sqs, put_rule, queue):
    body, _, _ = _deliver(events, sqs, put_rule, queue, Input='{"fixed": true, "list": [1, 2]}')
    assert json.loads(body) == {"fixed": True, "list": [1, 2]}


def test_input_path_detail(events, sqs, put_rule, queue):
    body, _, _ = _deliver(events, sqs, put_rule, queue, InputPath="$.detail")
    assert json.loads(body) == DETAIL


def test_input_path_nested_object(events, sqs, put_rule, queue):
    body, _, _ = _deliver(events, sqs, put_rule, queue, InputPath="$.detail.payload")
    assert json.loads(body) == DETAIL["payload"]


def test_input_path_to_a_string_is_a_json_string(events, sqs, put_rule, queue):
    body, _, _ = _deliver(events, sqs, put_rule, queue, InputPath="$.detail.payload.sf_id")
    assert body == '"baz"'


def test_input_path_source(events, sqs, put_rule, queue):
    body, _, src = _deliver(events, sqs, put_rule, queue, InputPath="$.source")
    assert json.loads(body) == src


def test_transformer_json_template(events, sqs, put_rule, queue):
    body, _, src = _deliver(
        events,
        sqs,
        put_rule,
        queue,
        InputTransformer={
            "InputPathsMap": {"dt": "$.detail-type", "src": "$.source", "cmd": "$.detail.command", "n": "$.detail.n", "p": "$.detail.payload"},
            "InputTemplate": '{"detailType": <dt>, "from": <src>, "command": <cmd>, "n": <n>, "payload": <p>}',
        },
    )
    assert json.loads(body) == {"detailType": DT, "from": src, "command": "update-account", "n": 7, "payload": DETAIL["payload"]}


def test_transformer_json_template_placeholder_inside_a_string(events, sqs, put_rule, queue):
    body, _, _ = _deliver(
        events,
        sqs,
        put_rule,
        queue,
        InputTransformer={
            "InputPathsMap": {"id": "$.detail.payload.acc_id"},
            "InputTemplate": '{"path": "users/<id>/x", "id": "<id>", "raw": <id>}',
        },
    )
    assert json.loads(body) == {"path": "users/0a787ecb-4015/x", "id": "0a787ecb-4015", "raw": "0a787ecb-4015"}


def test_transformer_json_template_missing_path_is_empty(events, sqs, put_rule, queue):
    body, _, _ = _deliver(
        events,
        sqs,
        put_rule,
        queue,
        InputTransformer={
            "InputPathsMap": {"dt": "$.detail-type", "cmd": "$.detail.notinmessage"},
            "InputTemplate": '{"detailType": <dt>, "command": <cmd>}',
        },
    )
    assert json.loads(body) == {"detailType": DT, "command": ""}


def test_transformer_string_template(events, sqs, put_rule, queue):
    body, _, src = _deliver(
        events,
        sqs,
        put_rule,
        queue,
        InputTransformer={"InputPathsMap": {"src": "$.source", "cmd": "$.detail.command"}, "InputTemplate": '"<src> did <cmd>"'},
    )
    assert body == f'"{src} did update-account"'


def test_transformer_string_template_with_boolean_and_missing(events, sqs, put_rule, queue):
    body, _, _ = _deliver(
        events,
        sqs,
        put_rule,
        queue,
        InputTransformer={
            "InputPathsMap": {"valid": "$.detail.valid", "none": "$.detail.absent"},
            "InputTemplate": '"Command is <valid>! [<none>]"',
        },
    )
    assert body == '"Command is true! []"'


def test_transformer_predefined_rule_variables(events, sqs, put_rule, queue):
    body, name, _ = _deliver(
        events,
        sqs,
        put_rule,
        queue,
        InputTransformer={"InputTemplate": '"rule <aws.events.rule-name> is <aws.events.rule-arn>"'},
    )
    assert body == f'"rule {name} is {rule_arn(name)}"'


def test_transformer_whole_event_variable(events, sqs, put_rule, queue):
    body, _, src = _deliver(
        events,
        sqs,
        put_rule,
        queue,
        InputTransformer={"InputTemplate": '{"original": <aws.events.event.json>}'},
    )
    original = json.loads(body)["original"]
    assert original["source"] == src
    assert original["detail-type"] == DT
    assert original["detail"] == DETAIL


def test_transformer_event_without_detail_variable(events, sqs, put_rule, queue):
    """<aws.events.event> is the event without its detail ("Transforming target input", predefined
    variables); field names as recorded in TestInputTransformer::test_input_transformer_predefined_variables."""
    body, _, src = _deliver(
        events, sqs, put_rule, queue, InputTransformer={"InputTemplate": '{"originalEvent": <aws.events.event>}'}
    )
    original = json.loads(body)["originalEvent"]
    assert "detail" not in original
    assert original["source"] == src
    assert set(original) == {"id", "account", "detailType", "time", "source", "region", "resources", "version"}


def test_transformer_ingestion_time_variable(events, sqs, put_rule, queue):
    body, _, _ = _deliver(
        events, sqs, put_rule, queue, InputTransformer={"InputTemplate": '"at <aws.events.event.ingestion-time>"'}
    )
    assert re.fullmatch(r'"at \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z"', body), body
