"""`eddy doctor` against the running eddy: the traps of gotchas.md #3 (a queue an SNS subscription
writes to without a policy that lets sns.amazonaws.com in), #4 (queues on AWS's defaults) and #6
(a service principal let in without source conditions). This is eddy's own command, not an AWS
API; the expectations follow gotchas.md."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from sns_helpers import get_arn, subscribe_queue

REPO = Path(__file__).resolve().parents[2]
BINARY = os.environ.get("EDDY_BIN", str(REPO / "target" / "release" / "eddy"))


def doctor(endpoint: str) -> tuple[int, list[dict]]:
    out = subprocess.run(
        [BINARY, "doctor", "--endpoint", endpoint, "--json"], capture_output=True, text=True, timeout=30
    )
    return out.returncode, json.loads(out.stdout)


def by_resource(findings: list[dict], arn: str) -> set[int]:
    return {f["trap"] for f in findings if f["resource"] == arn}


def test_doctor_reports_each_trap_with_its_fix(endpoint, sns, sqs, create_topic, create_queue):
    topic = create_topic()
    production = {"ReceiveMessageWaitTimeSeconds": "20", "KmsMasterKeyId": "alias/orders"}
    guarded = create_queue(attributes=production)
    subscribe_queue(sns, sqs, topic, guarded)  # sets the scoped policy
    unguarded = create_queue(attributes=production)
    subscribe_queue(sns, sqs, topic, unguarded, policy=False)
    defaults = create_queue()
    defaults_arn = get_arn(sqs, defaults)
    open_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": defaults_arn,
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=defaults, Attributes={"Policy": json.dumps(open_policy)})

    code, findings = doctor(endpoint)
    assert code == 1
    assert by_resource(findings, get_arn(sqs, guarded)) == set()
    assert by_resource(findings, get_arn(sqs, unguarded)) == {3}
    assert by_resource(findings, defaults_arn) == {4, 6}
    fix = next(f["fix"] for f in findings if f["trap"] == 3 and f["resource"] == get_arn(sqs, unguarded))
    statement = json.loads(fix.split(": ", 1)[1])
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == topic


def test_doctor_flags_a_dead_letter_queue_without_policy(endpoint, sns, sqs, create_topic, create_queue):
    topic = create_topic()
    target = create_queue(attributes={"ReceiveMessageWaitTimeSeconds": "20", "KmsMasterKeyId": "alias/k"})
    dlq = create_queue(attributes={"ReceiveMessageWaitTimeSeconds": "20", "KmsMasterKeyId": "alias/k"})
    subscribe_queue(sns, sqs, topic, target, attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": get_arn(sqs, dlq)})})
    code, findings = doctor(endpoint)
    assert code == 1
    problems = [f["problem"] for f in findings if f["resource"] == get_arn(sqs, dlq)]
    assert len(problems) == 1 and "dead-letter queue" in problems[0], problems
