//! SNS filter policies: AWS-recorded validation errors, the documented
//! match / no-match examples, and recorded delivery behaviour.
//!
//! Sources: LocalStack `tests/aws/services/sns/test_sns_filter_policy.py`
//! and its AWS snapshot (policies sent by boto3 as Python `json.dumps`
//! output, which is why inputs have spaces while the quoted source in
//! errors does not: SNS re-serializes); the SNS developer guide pages
//! "String value matching", "Numeric value matching", "Key matching",
//! "AND/OR logic", "Example filter policies" and "Filter policy
//! constraints".

use serde_json::{json, Value};

use super::{FilterPolicy, PatternError, Scope};

const ATTRS: Scope = Scope::MessageAttributes;
const BODY: Scope = Scope::MessageBody;

fn parse(policy: &str, scope: Scope) -> FilterPolicy {
    FilterPolicy::parse_sns(policy, scope).unwrap_or_else(|e| panic!("{policy}: {e}"))
}

fn error(policy: &str, scope: Scope) -> String {
    match FilterPolicy::parse_sns(policy, scope) {
        Ok(_) => panic!("{policy}: accepted"),
        Err(e) => e.message().to_string(),
    }
}

/// (policy, scope, through Subscribe, AWS's message).
#[rustfmt::skip]
const RECORDED_ERRORS: &[(&str, Scope, bool, &str)] = &[
    // error-condition-list
    (r#"{"key": [["value"]]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Match value must be String, number, true, false, or null
 at [Source: (String)"{"key":[["value"]]}"; line: 1, column: 10]"#),
    // error-condition-operator
    (r#"{"key": [{"wrong-operator": true}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Unrecognized match type wrong-operator
 at [Source: (String)"{"key":[{"wrong-operator":true}]}"; line: 1, column: 31]"#),
    // error-condition-two-operators
    (r#"{"key": [{"suffix": "value", "prefix": "value2"}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Only one key allowed in match expression
 at [Source: (String)"{"key":[{"suffix":"value","prefix":"value2"}]}"; line: 1, column: 37]"#),
    // error-condition-empty-array
    (r#"{"key": []}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Empty arrays are not allowed
 at [Source: (String)"{"key":[]}"; line: 1, column: 10]"#),
    // error-condition-is-numeric
    (r#"{"key": [{"suffix": 100}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: suffix match pattern must be a string
 at [Source: (String)"{"key":[{"suffix":100}]}"; line: 1, column: 22]"#),
    // error-condition-is-none
    (r#"{"key": [{"suffix": null}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: suffix match pattern must be a string
 at [Source: (String)"{"key":[{"suffix":null}]}"; line: 1, column: 23]"#),
    // error-condition-is-not-list-and-operator
    (r#"{"key": {"suffix": "value"}}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: "suffix" must be an object or an array
 at [Source: (String)"{"key":{"suffix":"value"}}"; line: 1, column: 19]"#),
    // error-condition-empty-list
    (r#"{"key": [{"suffix": []}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: suffix match pattern must be a string
 at [Source: (String)"{"key":[{"suffix":[]}]}"; line: 1, column: 20]"#),
    // error-condition-list-wrong-type
    (r#"{"key": [{"suffix": ["test", "test2"]}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: suffix match pattern must be a string
 at [Source: (String)"{"key":[{"suffix":["test","test2"]}]}"; line: 1, column: 20]"#),
    // error-condition-is-not-list-two-ops
    (r#"{"key": {"suffix": "value", "prefix": "value"}}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: "suffix" must be an object or an array
 at [Source: (String)"{"key":{"suffix":"value","prefix":"value"}}"; line: 1, column: 19]"#),
    // error-condition-is-not-list-and-no-operator
    (r#"{"key": {"not-an-operator": "value"}}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: "not-an-operator" must be an object or an array
 at [Source: (String)"{"key":{"not-an-operator":"value"}}"; line: 1, column: 28]"#),
    // error-condition-bad-type
    (r#"{"key": [{"cidr": ["bad-filter"]}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: prefix match pattern must be a string
 at [Source: (String)"{"key":[{"cidr":["bad-filter"]}]}"; line: 1, column: 18]"#),
    // error-condition-bad-cidr-str
    (r#"{"key": [{"cidr": "bad-filter"}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Malformed CIDR, one '/' required"#),
    // error-condition-bad-cidr-str-slash
    (r#"{"key": [{"cidr": "bad-filter/64"}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Nonstandard IP address: bad-filter"#),
    // error-condition-bad-cidr-str-slash-2
    (r#"{"key": [{"cidr": "bad-/64filter"}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Malformed CIDR, mask bits must be an integer"#),
    // error-condition-bad-cidr-v4
    (r#"{"key": [{"cidr": "xx.11.xx/8"}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Nonstandard IP address: xx.11.xx"#),
    // error-condition-bad-cidr-v6
    (r#"{"key": [{"cidr": "xxxx:db8:1234:1a00::/64"}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Nonstandard IP address: xxxx:db8:1234:1a00::"#),
    // error-numeric-empty
    (r#"{"key": [{"numeric": []}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Invalid member in numeric match: ]
 at [Source: (String)"{"key":[{"numeric":[]}]}"; line: 1, column: 22]"#),
    // error-numeric-wrong-operator
    (r#"{"key": [{"numeric": ["operator"]}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Unrecognized numeric range operator: operator
 at [Source: (String)"{"key":[{"numeric":["operator"]}]}"; line: 1, column: 32]"#),
    // error-numeric-operator-order
    (r#"{"key": [{"numeric": [1, "<="]}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Invalid member in numeric match: 1
 at [Source: (String)"{"key":[{"numeric":[1,"<="]}]}"; line: 1, column: 22]"#),
    // error-numeric-type
    (r#"{"key": [{"numeric": ["=", "000"]}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Value of equals must be numeric
 at [Source: (String)"{"key":[{"numeric":["=","000"]}]}"; line: 1, column: 26]"#),
    // error-numeric-missing-value
    (r#"{"key": [{"numeric": [">="]}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Value of >= must be numeric
 at [Source: (String)"{"key":[{"numeric":[">="]}]}"; line: 1, column: 26]"#),
    // error-numeric-wrong-range-order
    (r#"{"key": [{"numeric": ["<", 100, ">", 10]}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Too many elements in numeric expression
 at [Source: (String)"{"key":[{"numeric":["<",100,">",10]}]}"; line: 1, column: 30]"#),
    // error-numeric-wrong-range-operators
    (r#"{"key": [{"numeric": [">=", 1, ">", 2]}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Bad numeric range operator: >
 at [Source: (String)"{"key":[{"numeric":[">=",1,">",2]}]}"; line: 1, column: 31]"#),
    // error-numeric-wrong-value-order
    (r#"{"key": [{"numeric": [">", 3, "<", 1]}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Bottom must be less than top
 at [Source: (String)"{"key":[{"numeric":[">",3,"<",1]}]}"; line: 1, column: 33]"#),
    // error-numeric-missing-range-value
    (r#"{"key": [{"numeric": [">", 20, "<="]}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Value of <= must be numeric
 at [Source: (String)"{"key":[{"numeric":[">",20,"<="]}]}"; line: 1, column: 33]"#),
    // error-numeric-missing-range-operator
    (r#"{"key": [{"numeric": [">", 20, 30]}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Bad value in numeric range: 30
 at [Source: (String)"{"key":[{"numeric":[">",20,30]}]}"; line: 1, column: 30]"#),
    // error-numeric-wrong-second-range-operator
    (r#"{"key": [{"numeric": [">", 20, "test"]}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Bad numeric range operator: test
 at [Source: (String)"{"key":[{"numeric":[">",20,"test"]}]}"; line: 1, column: 34]"#),
    // error-numeric-wrong-range-value-1-type
    (r#"{"key": [{"numeric": [">", "20", "<", "30"]}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Value of > must be numeric
 at [Source: (String)"{"key":[{"numeric":[">","20","<","30"]}]}"; line: 1, column: 26]"#),
    // error-numeric-wrong-range-value-2-type
    (r#"{"key": [{"numeric": [">", 20, "<", "30"]}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Value of < must be numeric
 at [Source: (String)"{"key":[{"numeric":[">",20,"<","30"]}]}"; line: 1, column: 33]"#),
    // error-numeric-too-many-range
    (r#"{"key": [{"numeric": [">", 20, "<", 30, "<", 50]}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Too many terms in numeric range expression
 at [Source: (String)"{"key":[{"numeric":[">",20,"<",30,"<",50]}]}"; line: 1, column: 36]"#),
    // error-condition-none
    (r#"{"key": [{"exists": null}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: exists match pattern must be either true or false.
 at [Source: (String)"{"key":[{"exists":null}]}"; line: 1, column: 23]"#),
    // error-condition-string
    (r#"{"key": [{"exists": "no"}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: exists match pattern must be either true or false.
 at [Source: (String)"{"key":[{"exists":"no"}]}"; line: 1, column: 20]"#),
    // error-complexity-in-one-condition
    (r#"{"key": ["value0", "value1", "value2", "value3", "value4", "value5", "value6", "value7", "value8", "value9", "value10", "value11", "value12", "value13", "value14", "value15", "value16", "value17", "value18", "value19", "value20", "value21", "value22", "value23", "value24", "value25", "value26", "value27", "value28", "value29", "value30", "value31", "value32", "value33", "value34", "value35", "value36", "value37", "value38", "value39", "value40", "value41", "value42", "value43", "value44", "value45", "value46", "value47", "value48", "value49", "value50", "value51", "value52", "value53", "value54", "value55", "value56", "value57", "value58", "value59", "value60", "value61", "value62", "value63", "value64", "value65", "value66", "value67", "value68", "value69", "value70", "value71", "value72", "value73", "value74", "value75", "value76", "value77", "value78", "value79", "value80", "value81", "value82", "value83", "value84", "value85", "value86", "value87", "value88", "value89", "value90", "value91", "value92", "value93", "value94", "value95", "value96", "value97", "value98", "value99", "value100", "value101", "value102", "value103", "value104", "value105", "value106", "value107", "value108", "value109", "value110", "value111", "value112", "value113", "value114", "value115", "value116", "value117", "value118", "value119", "value120", "value121", "value122", "value123", "value124", "value125", "value126", "value127", "value128", "value129", "value130", "value131", "value132", "value133", "value134", "value135", "value136", "value137", "value138", "value139", "value140", "value141", "value142", "value143", "value144", "value145", "value146", "value147", "value148", "value149", "value150"]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Filter policy is too complex"#),
    // error-complexity-in-two-conditions
    (r#"{"key1": ["value0", "value1", "value2", "value3", "value4", "value5", "value6", "value7", "value8", "value9", "value10", "value11", "value12", "value13", "value14", "value15", "value16", "value17", "value18", "value19", "value20", "value21", "value22", "value23", "value24", "value25", "value26", "value27", "value28", "value29", "value30", "value31", "value32", "value33", "value34", "value35", "value36", "value37", "value38", "value39", "value40", "value41", "value42", "value43", "value44", "value45", "value46", "value47", "value48", "value49", "value50", "value51", "value52", "value53", "value54", "value55", "value56", "value57", "value58", "value59", "value60", "value61", "value62", "value63", "value64", "value65", "value66", "value67", "value68", "value69", "value70", "value71", "value72", "value73", "value74", "value75", "value76", "value77", "value78", "value79", "value80", "value81", "value82", "value83", "value84", "value85", "value86", "value87", "value88", "value89", "value90", "value91", "value92", "value93", "value94", "value95", "value96", "value97", "value98", "value99"], "key2": ["value0", "value1", "value2", "value3", "value4", "value5", "value6", "value7", "value8", "value9", "value10", "value11", "value12", "value13", "value14", "value15", "value16", "value17", "value18", "value19", "value20", "value21", "value22", "value23", "value24", "value25", "value26", "value27", "value28", "value29", "value30", "value31", "value32", "value33", "value34", "value35", "value36", "value37", "value38", "value39", "value40", "value41", "value42", "value43", "value44", "value45", "value46", "value47", "value48", "value49", "value50"]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Filter policy is too complex"#),
    // error-complexity-too-many-fields
    (r#"{"key1": ["value1"], "key2": ["value2"], "key3": ["value3"], "key4": ["value4"], "key5": ["value5"], "key6": ["value6"]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Filter policy can not have more than 5 keys"#),
    // error-complexity-or-flat
    (r#"{"source": ["aws.cloudwatch", "aws.events", "aws.test", "aws.test2"], "$or": [{"metricName": ["CPUUtilization", "ReadLatency", "t1", "t2", "t3", "t4"]}, {"metricType": ["MetricType", "TestType", "TestType2", "TestType3"], "$or": [{"metricId": [1234, 4321, 5678, 9012]}, {"spaceId": [1, 2, 3, 4]}]}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Filter policy is too complex"#),
    // error-complexity-or-nested
    (r#"{"$or": [{"metricName": ["CPUUtilization", "ReadLatency", "TestValue"]}, {"namespace": ["AWS/EC2", "AWS/ES"]}], "detail": {"scope": ["Service", "Test"], "$or": [{"source": ["aws.cloudwatch"]}, {"type": ["CloudWatch Alarm State Change", "TestValue", "TestValue2"]}]}}"#, Scope::MessageBody, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Filter policy is too complex"#),
    // sub-filter-policy-nested-error
    (r#"{"object": {"key": [{"prefix": "auto-"}]}}"#, Scope::MessageAttributes, false, r#"Invalid parameter: Filter policy scope MessageAttributes does not support nested filter policy"#),
    // sub-filter-policy-nested-error-too-many-combinations
    (r#"{"key_a": {"key_b": {"key_c": ["value_one", "value_two", "value_three", "value_four"]}}, "key_d": {"key_e": ["value_one", "value_two", "value_three"]}, "key_f": ["value_one", "value_two", "value_three"]}"#, Scope::MessageBody, false, r#"Invalid parameter: FilterPolicy: Filter policy is too complex"#),
    // sub-filter-policy-max-attr-keys
    (r#"{"key_a": ["value_one"], "key_b": ["value_two"], "key_c": ["value_three"], "key_d": ["value_four"], "key_e": ["value_five"], "key_f": ["value_six"]}"#, Scope::MessageBody, false, r#"Invalid parameter: FilterPolicy: Filter policy can not have more than 5 keys"#),
    // sub-filter-policy-rule-no-list
    (r#"{"key_a": "value_one"}"#, Scope::MessageBody, false, r#"Invalid parameter: FilterPolicy: "key_a" must be an object or an array
 at [Source: (String)"{"key_a":"value_one"}"; line: 1, column: 11]"#),
    // error-condition-wrong-operator
    (r#"{"key": [{"anything-but": {"wrong-operator": null}}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Unsupported anything-but pattern: wrong-operator
 at [Source: (String)"{"key":[{"anything-but":{"wrong-operator":null}}]}"; line: 1, column: 47]"#),
    // error-condition-anything-but-suffix
    (r#"{"key": [{"anything-but": {"suffix": "test"}}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Unsupported anything-but pattern: suffix
 at [Source: (String)"{"key":[{"anything-but":{"suffix":"test"}}]}"; line: 1, column: 36]"#),
    // error-condition-anything-but-exists
    (r#"{"key": [{"anything-but": {"exists": false}}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: Unsupported anything-but pattern: exists
 at [Source: (String)"{"key":[{"anything-but":{"exists":false}}]}"; line: 1, column: 40]"#),
    // error-condition-anything-but-prefix-wrong-type
    (r#"{"key": [{"anything-but": {"prefix": false}}]}"#, Scope::MessageAttributes, true, r#"Invalid parameter: Attributes Reason: FilterPolicy: prefix match pattern must be a string
 at [Source: (String)"{"key":[{"anything-but":{"prefix":false}}]}"; line: 1, column: 40]"#),
];

#[test]
fn recorded_validation_errors() {
    let mut failures = Vec::new();
    for (policy, scope, subscribe, expected) in RECORDED_ERRORS {
        let got = match FilterPolicy::parse_sns(policy, *scope) {
            Ok(_) => "accepted".to_string(),
            Err(e) if *subscribe => e.for_subscribe().message().to_string(),
            Err(e) => e.message().to_string(),
        };
        if got != *expected {
            failures.push(format!("{policy}\n  expected {expected:?}\n  got      {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{} case(s) differ:\n{}", failures.len(), failures.join("\n"));
}

/// SNS reads the policy with a Jackson that redacts the source; recorded
/// in LocalStack's `test_sns.snapshot.json` (2025–2026).
#[test]
fn recorded_json_syntax_errors() {
    let redacted = "[Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled)";
    assert_eq!(
        error("{invalidjson}", ATTRS),
        format!(
            "Invalid parameter: FilterPolicy: failed to parse JSON. Unexpected character ('i' (code 105)): \
             was expecting double-quote to start field name\n at {redacted}; line: 1, column: 2]"
        )
    );
    let subscribe = FilterPolicy::parse_sns("invalid-json", ATTRS).unwrap_err().for_subscribe();
    assert_eq!(
        subscribe.message(),
        format!(
            "Invalid parameter: Attributes Reason: FilterPolicy: failed to parse JSON. Unrecognized token 'invalid': \
             was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\n at {redacted}; \
             line: 1, column: 8]"
        )
    );
}

/// Jackson's wording for other syntax errors (not recorded from AWS; the
/// texts are Jackson's, the columns follow the rules the recorded ones do).
#[test]
fn json_syntax_errors_use_jacksons_words() {
    let cases = [
        (r#"{"a": ["b",]}"#, "Unexpected character (']' (code 93)): expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')", 12),
        (r#"{"a": ["b"] "c": ["d"]}"#, "Unexpected character ('\"' (code 34)): was expecting comma to separate Object entries", 13),
        (r#"{"a" ["b"]}"#, "Unexpected character ('[' (code 91)): was expecting a colon to separate field name and value", 6),
        (r#"{"a": [01]}"#, "Invalid numeric value: Leading zeroes not allowed", 9),
        (r#"{"a": ["b"]]"#, "Unexpected close marker ']': expected '}' (for Object starting at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 1])", 13),
        (r#"{"a": [tru]}"#, "Unrecognized token 'tru': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')", 11),
        (r#"{"a": ["\x"]}"#, "Unrecognized character escape 'x' (code 120)", 11),
        ("{\"a\":\n [\"b\"", "Unexpected end-of-input: expected close marker for Array (start marker at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 2, column: 2])", 6),
    ];
    for (policy, message, column) in cases {
        let got = error(policy, ATTRS);
        let want_prefix = format!("Invalid parameter: FilterPolicy: failed to parse JSON. {message}\n at ");
        assert!(got.starts_with(&want_prefix), "{policy}: {got}");
        assert!(got.ends_with(&format!("column: {column}]")), "{policy}: {got}");
    }
}

/// Ruler checks the recordings do not cover; texts are ruler's, positions
/// are where ruler's parser stands.
#[test]
fn other_ruler_errors() {
    let at = |source: &str, column: u32| format!("\n at [Source: (String)\"{source}\"; line: 1, column: {column}]");
    let cases = [
        (r#"["a"]"#, format!("Filter is not an object{}", at(r#"["a"]"#, 2))),
        (r#"{"a": {}}"#, format!("Empty objects are not allowed{}", at(r#"{"a":{}}"#, 8))),
        (r#"{"a": [{}]}"#, format!("Match expression name not found{}", at(r#"{"a":[{}]}"#, 9))),
        (
            r#"{"a": [{"anything-but": {"prefix": ""}}]}"#,
            format!("Null prefix not allowed{}", at(r#"{"a":[{"anything-but":{"prefix":""}}]}"#, 35)),
        ),
        (
            r#"{"a": [{"anything-but": null}]}"#,
            format!(
                "Value of anything-but must be an array or single string/number value.{}",
                at(r#"{"a":[{"anything-but":null}]}"#, 27)
            ),
        ),
        (
            r#"{"a": [{"anything-but": ["x", 1]}]}"#,
            format!(
                "Inside anything but list, either all values are number or string, mixed type is not supported{}",
                at(r#"{"a":[{"anything-but":["x",1]}]}"#, 30)
            ),
        ),
        // SNS's ruler generation: ranges run to ±5e9, so these fail on order or range.
        (
            r#"{"a": [{"numeric": ["<", 6e9]}]}"#,
            format!(
                "Value must be between -5.0E9 and 5.0E9, inclusive{}",
                at(r#"{"a":[{"numeric":["<",6.0E9]}]}"#, 29)
            ),
        ),
        (
            r#"{"a": [{"numeric": [">", 6e9]}]}"#,
            format!("Bottom must be less than top{}", at(r#"{"a":[{"numeric":[">",6.0E9]}]}"#, 29)),
        ),
        (
            r#"{"a": [{"numeric": ["<", -6e9]}]}"#,
            format!("Bottom must be less than top{}", at(r#"{"a":[{"numeric":["<",-6.0E9]}]}"#, 30)),
        ),
        (
            r#"{"a": [{"prefix": {"equals-ignore-case": "x"}}]}"#,
            format!(
                "prefix match pattern must be a string{}",
                at(r#"{"a":[{"prefix":{"equals-ignore-case":"x"}}]}"#, 18)
            ),
        ),
        (
            r#"{"$or": [{"a": ["b"]}]}"#,
            format!("There must have at least 2 Objects in $or relationship.{}", at(r#"{"$or":[{"a":["b"]}]}"#, 21)),
        ),
        (
            r#"{"$or": [{"a": ["b"]}, {"prefix": ["c"]}]}"#,
            format!(
                "prefix is Ruler reserved fieldName which cannot be used inside $or.{}",
                at(r#"{"$or":[{"a":["b"]},{"prefix":["c"]}]}"#, 32)
            ),
        ),
        (
            r#"{"$or": {"a": ["b"]}}"#,
            format!("It must be an Array followed with $or.{}", at(r#"{"$or":{"a":["b"]}}"#, 9)),
        ),
        (r#"{"a": [{"cidr": "10.0.0.0/32"}]}"#, "IPv4 mask bits must be < 32".to_string()),
        (r#"{"a": [{"cidr": "10.0.0.300/8"}]}"#, "Invalid IP address: 10.0.0.300".to_string()),
    ];
    for (policy, reason) in cases {
        assert_eq!(error(policy, BODY), format!("Invalid parameter: FilterPolicy: {reason}"), "{policy}");
    }
}

#[test]
fn number_text_in_errors_is_jacksons() {
    // SNS re-serializes through a Jackson tree: 1e2 becomes 100.0, -0 becomes 0.
    let got = error(r#"{"a": [{"numeric": [1e2, -0]}]}"#, ATTRS);
    assert!(got.contains("Invalid member in numeric match: 100.0"), "{got}");
    assert!(got.contains(r#"(String)"{"a":[{"numeric":[100.0,0]}]}""#), "{got}");
}

#[test]
fn long_sources_are_truncated_like_jackson() {
    let long = "x".repeat(600);
    let got = error(&format!(r#"{{"a": ["{long}", {{"bad": 1}}]}}"#), ATTRS);
    let compact_len = format!(r#"{{"a":["{long}",{{"bad":1}}]}}"#).len();
    assert!(got.contains(&format!("[truncated {} chars]; line: 1", compact_len - 500)), "{got}");
}

#[test]
fn limits() {
    let five: String = (1..=5).map(|i| format!(r#""k{i}": ["v"]"#)).collect::<Vec<_>>().join(", ");
    parse(&format!("{{{five}}}"), ATTRS);
    // Nested keys do not count for body policies; only parents do.
    parse(r#"{"a": {"b": ["1"], "c": ["2"], "d": ["3"], "e": ["4"], "f": ["5"], "g": ["6"]}}"#, BODY);
    // 150 combinations pass, 151 do not.
    let values: Vec<String> = (0..150).map(|i| format!("\"v{i}\"")).collect();
    parse(&format!(r#"{{"k": [{}]}}"#, values.join(",")), ATTRS);
    // The documented nested example: 3 x 4 x 2 x 3 = 72.
    parse(r#"{"key_a": {"key_b": {"key_c": ["1", "2", "3", "4"]}}, "key_d": {"key_e": ["1", "2", "3"]}}"#, BODY);
    let too_big = format!(r#"{{"k": ["{}"]}}"#, "x".repeat(256 * 1024));
    assert!(error(&too_big, ATTRS).starts_with("Invalid parameter: FilterPolicy: "));
}

#[test]
fn accepted_policies() {
    // From the recorded positive cases.
    parse(r#"{"key": [{"anything-but": {"prefix": "test-"}}]}"#, ATTRS);
    parse(r#"{"key": [{"anything-but": ["test", "test2"]}]}"#, ATTRS);
    parse(r#"{"key": [{"anything-but": "test"}]}"#, ATTRS);
    let or_150 = r#"{"source": ["aws.cloudwatch", "aws.events", "aws.test"], "$or": [{"metricName": ["CPUUtilization", "ReadLatency", "TestVal", "TestVal2", "TestVal3", "TestVal4"]}, {"metricType": ["MetricType", "TestType", "TestType2", "TestType3"], "$or": [{"metricId": [1234, 4321, 5678, 9012]}, {"spaceId": [1, 2, 3, 4, 5, 6, 7]}]}]}"#;
    parse(or_150, ATTRS);
    parse(r#"{"object": {"key": [{"prefix": "auto-"}]}}"#, BODY);
    parse(r#"{"a": [{"suffix": ".png"}, {"equals-ignore-case": "X"}, {"wildcard": "a*b"}, {"exactly": "e"}]}"#, ATTRS);
}

#[test]
fn empty_policy_matches_everything() {
    for blank in ["{}", " { } ", "", "  "] {
        let p = parse(blank, ATTRS);
        assert!(p.is_empty());
        assert!(p.matches_attributes([]));
        assert!(p.matches_body(None));
    }
}

type Attr = (&'static str, &'static str, &'static str);

fn attrs_match(policy: &str, attrs: &[Attr]) -> bool {
    parse(policy, ATTRS).matches_attributes(attrs.iter().copied())
}

fn body_match(policy: &str, body: Value) -> bool {
    parse(policy, BODY).matches_body(Some(&body))
}

/// The documented attribute examples: (policy, attributes, matches).
#[rustfmt::skip]
const ATTRIBUTE_CASES: &[(&str, &[Attr], bool)] = &[
    // String value matching: exact.
    (r#"{"customer_interests": ["rugby", "tennis"]}"#, &[("customer_interests", "String", "rugby")], true),
    (r#"{"customer_interests": ["rugby", "tennis"]}"#, &[("customer_interests", "String", "tennis")], true),
    (r#"{"customer_interests": ["rugby", "tennis"]}"#, &[("customer_interests", "String.Array", r#"["rugby", "tennis"]"#)], true),
    (r#"{"customer_interests": ["rugby", "tennis"]}"#, &[("customer_interests", "String", "baseball")], false),
    (r#"{"customer_interests": ["rugby", "tennis"]}"#, &[("customer_interests", "String.Array", r#"["baseball"]"#)], false),
    // Prefix.
    (r#"{"customer_interests": [{"prefix": "bas"}]}"#, &[("customer_interests", "String", "baseball")], true),
    (r#"{"customer_interests": [{"prefix": "bas"}]}"#, &[("customer_interests", "String", "basketball")], true),
    (r#"{"customer_interests": [{"prefix": "bas"}]}"#, &[("customer_interests", "String", "rugby")], false),
    // Anything-but.
    (r#"{"customer_interests": [{"anything-but": ["rugby", "tennis"]}]}"#, &[("customer_interests", "String", "baseball")], true),
    (r#"{"customer_interests": [{"anything-but": ["rugby", "tennis"]}]}"#, &[("customer_interests", "String", "football")], true),
    (r#"{"customer_interests": [{"anything-but": ["rugby", "tennis"]}]}"#, &[("customer_interests", "String.Array", r#"["rugby", "baseball"]"#)], true),
    (r#"{"customer_interests": [{"anything-but": ["rugby", "tennis"]}]}"#, &[("customer_interests", "String", "rugby")], false),
    // Anything-but with a prefix.
    (r#"{"event": [{"anything-but": {"prefix": "order-"}}]}"#, &[("event", "String", "data-entry")], true),
    (r#"{"event": [{"anything-but": {"prefix": "order-"}}]}"#, &[("event", "String", "order_number")], true),
    (r#"{"event": [{"anything-but": {"prefix": "order-"}}]}"#, &[("event", "String", "order-cancelled")], false),
    // IP address matching.
    (r#"{"source_ip": [{"cidr": "10.0.0.0/24"}]}"#, &[("source_ip", "String", "10.0.0.0")], true),
    (r#"{"source_ip": [{"cidr": "10.0.0.0/24"}]}"#, &[("source_ip", "String", "10.0.0.255")], true),
    (r#"{"source_ip": [{"cidr": "10.0.0.0/24"}]}"#, &[("source_ip", "String", "10.1.1.0")], false),
    // Numeric value matching: exact, anything-but, ranges.
    (r#"{"price_usd": [{"numeric": ["=", 301.5]}]}"#, &[("price_usd", "Number", "301.5")], true),
    (r#"{"price_usd": [{"numeric": ["=", 301.5]}]}"#, &[("price_usd", "Number", "3.015e2")], true),
    (r#"{"price": [{"anything-but": [100, 500]}]}"#, &[("price", "Number", "101")], true),
    (r#"{"price": [{"anything-but": [100, 500]}]}"#, &[("price", "Number", "100.1")], true),
    (r#"{"price": [{"anything-but": [100, 500]}]}"#, &[("price", "Number.Array", "[100, 50]")], true),
    (r#"{"price": [{"anything-but": [100, 500]}]}"#, &[("price", "Number", "100")], false),
    (r#"{"price_usd": [{"numeric": ["<", 0]}]}"#, &[("price_usd", "Number", "-0.5")], true),
    (r#"{"price_usd": [{"numeric": ["<", 0]}]}"#, &[("price_usd", "Number", "0")], false),
    (r#"{"price_usd": [{"numeric": [">", 0, "<=", 150]}]}"#, &[("price_usd", "Number", "150")], true),
    (r#"{"price_usd": [{"numeric": [">", 0, "<=", 150]}]}"#, &[("price_usd", "Number", "0")], false),
    (r#"{"price_usd": [{"numeric": [">", 0, "<=", 150]}]}"#, &[("price_usd", "Number", "150.01")], false),
    // Key matching.
    (r#"{"store": [{"exists": true}]}"#, &[("store", "String", "fans"), ("customer_interests", "String.Array", r#"["baseball", "basketball"]"#)], true),
    (r#"{"store": [{"exists": true}]}"#, &[("customer_interests", "String.Array", r#"["baseball", "basketball"]"#)], false),
    (r#"{"store": [{"exists": false}]}"#, &[("store", "String", "fans"), ("customer_interests", "String.Array", r#"["baseball", "basketball"]"#)], false),
    (r#"{"store": [{"exists": false}]}"#, &[("customer_interests", "String.Array", r#"["baseball", "basketball"]"#)], true),
    // "exists": false only matches if at least one attribute is present.
    (r#"{"store": [{"exists": false}]}"#, &[], false),
    // AND / OR logic.
    (r#"{"customer_interests": ["rugby"], "price_usd": [{"numeric": [">", 100]}]}"#, &[("customer_interests", "String", "rugby"), ("price_usd", "Number", "101")], true),
    (r#"{"customer_interests": ["rugby"], "price_usd": [{"numeric": [">", 100]}]}"#, &[("customer_interests", "String", "rugby"), ("price_usd", "Number", "100")], false),
    (r#"{"customer_interests": ["rugby", "football", "baseball"]}"#, &[("customer_interests", "String", "football")], true),
    (r#"{"source": ["aws.cloudwatch"], "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}]}"#, &[("source", "String", "aws.cloudwatch"), ("namespace", "String", "AWS/EC2")], true),
    (r#"{"source": ["aws.cloudwatch"], "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}]}"#, &[("source", "String", "aws.cloudwatch"), ("namespace", "String", "AWS/ES")], false),
    // Recorded (LocalStack, AWS-validated).
    (r#"{"attr1": [{"numeric": [">", 0, "<=", 100]}]}"#, &[("attr1", "Number", "99")], true),
    (r#"{"attr1": [{"numeric": [">", 0, "<=", 100]}]}"#, &[("attr1", "Number", "111")], false),
    (r#"{"attr1": [null, {"anything-but": "whatever"}]}"#, &[], false),
    (r#"{"store": [{"exists": true}]}"#, &[("store", "Number", "99"), ("def", "Number", "99")], true),
    (r#"{"store": [{"exists": true}]}"#, &[("attr1", "Number", "111")], false),
    (r#"{"store": [{"exists": false}]}"#, &[("def", "Number", "99")], true),
    (r#"{"store": ["value1"]}"#, &[("store", "String.Array", r#"["value1", "value2"]"#)], true),
    (r#"{"store": ["value1"]}"#, &[("store", "String.Array", r#"["value2", "value3"]"#)], false),
    // Types: strings match strings, numbers numbers.
    (r#"{"a": [{"numeric": [">", 0]}]}"#, &[("a", "String", "99")], false),
    (r#"{"a": ["99"]}"#, &[("a", "Number", "99")], false),
    (r#"{"a": [99]}"#, &[("a", "Number", "99.0")], true),
    (r#"{"a": [99]}"#, &[("a", "Number.custom", "99")], true),
    (r#"{"a": ["x"]}"#, &[("a", "String.custom", "x")], true),
    // Binary attributes are ignored, even by exists.
    (r#"{"a": [{"exists": true}]}"#, &[("a", "Binary", "")], false),
    (r#"{"a": [{"exists": false}]}"#, &[("a", "Binary", ""), ("b", "String", "x")], true),
    (r#"{"a": [{"exists": false}]}"#, &[("a", "Binary", "")], false),
    // Operators SNS lists besides the examples above.
    (r#"{"f": [{"suffix": ".png"}]}"#, &[("f", "String", "image.png")], true),
    (r#"{"f": [{"suffix": ".png"}]}"#, &[("f", "String", "image.PNG")], false),
    (r#"{"f": [{"equals-ignore-case": "Image.PNG"}]}"#, &[("f", "String", "image.png")], true),
    (r#"{"f": [true]}"#, &[("f", "String.Array", "[true]")], true),
    (r#"{"f": [null]}"#, &[("f", "String.Array", "[null]")], true),
];

#[test]
fn documented_attribute_examples() {
    for (policy, attrs, expected) in ATTRIBUTE_CASES {
        assert_eq!(attrs_match(policy, attrs), *expected, "{policy} with {attrs:?}");
    }
}

/// The "Example filter policies" page, in both scopes.
#[test]
fn example_message_both_scopes() {
    let accept = r#"{"store": ["example_corp"], "event": [{"anything-but": "order_cancelled"}], "customer_interests": ["rugby", "football", "baseball"], "price_usd": [{"numeric": [">=", 100]}]}"#;
    let reject = r#"{"store": ["example_corp"], "event": ["order_cancelled"], "encrypted": [false], "customer_interests": ["basketball", "baseball"]}"#;
    let attrs: &[Attr] = &[
        ("customer_interests", "String.Array", r#"["soccer", "rugby", "hockey"]"#),
        ("store", "String", "example_corp"),
        ("event", "String", "order_placed"),
        ("price_usd", "Number", "210.75"),
    ];
    let body = json!({"customer_interests": ["soccer", "rugby", "hockey"], "store": "example_corp", "event": "order_placed", "price_usd": 210.75});
    assert!(attrs_match(accept, attrs));
    assert!(!attrs_match(reject, attrs));
    assert!(body_match(accept, body.clone()));
    assert!(!body_match(reject, body));
}

/// (policy, body, matches): documented body examples and LocalStack's
/// AWS-validated payload-filtering cases.
fn body_cases() -> Vec<(&'static str, Value, bool)> {
    let nested = r#"{"object": {"key": [{"prefix": "auto-"}, "hardcodedvalue"], "nested_key": [{"exists": false}]}, "test": [{"exists": false}]}"#;
    let dotted = r#"{"object.nested": ["string.value"]}"#;
    let deep = r#"{"object.nested.test": ["string.value"]}"#;
    let or = r#"{"$or": [{"metricName": ["CPUUtilization", "ReadLatency"]}, {"namespace": ["AWS/EC2", "AWS/ES"]}], "detail": {"scope": ["Service"], "$or": [{"source": ["aws.cloudwatch"]}, {"type": ["CloudWatch Alarm State Change"]}]}}"#;
    let ip = r#"{"detail": {"$or": [{"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}, {"sourceIPAddressV6": [{"cidr": "2001:db8:1234:1a00::/64"}]}]}}"#;
    let s3 = r#"{"Records": {"s3": {"object": {"key": [{"prefix": "auto-"}]}}, "eventName": [{"prefix": "ObjectCreated:"}]}}"#;
    vec![
        (r#"{"customer_interests": ["rugby", "tennis"]}"#, json!({"customer_interests": "rugby"}), true),
        (r#"{"customer_interests": ["rugby", "tennis"]}"#, json!({"customer_interests": "baseball"}), false),
        (
            r#"{"customer_interests": [{"anything-but": ["rugby", "tennis"]}]}"#,
            json!({"customer_interests": ["rugby", "baseball"]}),
            true,
        ),
        (
            r#"{"customer_interests": [{"anything-but": ["rugby", "tennis"]}]}"#,
            json!({"customer_interests": ["rugby"]}),
            false,
        ),
        (r#"{"price_usd": [{"numeric": ["=", 301.5]}]}"#, json!({"price_usd": 3.015e2}), true),
        (r#"{"price": [{"anything-but": [100, 500]}]}"#, json!({"price": [100, 50]}), true),
        (r#"{"price": [{"anything-but": [100, 500]}]}"#, json!({"price": 100}), false),
        (r#"{"store": [{"exists": true}]}"#, json!({"store": "fans", "customer_interests": ["baseball"]}), true),
        (r#"{"store": [{"exists": false}]}"#, json!({"customer_interests": ["baseball", "basketball"]}), true),
        (nested, json!({"object": {"key": "auto-test"}}), true),
        (nested, json!({"object": {"key": "hardcodedvalue"}}), true),
        (nested, json!({"object": {"key": "test-auto"}}), false),
        (nested, json!({"object": {"key": "auto-test"}, "test": "just-exists"}), false),
        (nested, json!({"object": {"key": "auto-test", "nested_key": "just-exists"}}), false),
        (nested, json!({"object": {"test": "auto-test"}}), false),
        (nested, json!({"test": "auto-test"}), false),
        (dotted, json!({"object": {"nested": "string.value"}}), true),
        (dotted, json!({"object.nested": "string.value"}), true),
        (dotted, json!({"object": {"nested": "test-auto"}}), false),
        (deep, json!({"object": {"nested": {"test": "string.value"}}}), true),
        (deep, json!({"object.nested.test": "string.value"}), true),
        (deep, json!({"object.nested": {"test": "string.value"}}), true),
        (deep, json!({"object": {"nested.test": "string.value"}}), true),
        (deep, json!({"object": {"nested": {"test": "string.notvalue"}}}), false),
        (r#"{"headers": {"route-to": ["queue1"]}}"#, json!({"headers": {"route-to": ["queue3"]}}), false),
        (r#"{"headers": {"route-to": ["queue1"]}}"#, json!({"headers": {"route-to": ["queue1", "queue2"]}}), true),
        (
            or,
            json!({"metricName": "CPUUtilization", "detail": {"scope": "aws.cloudwatch", "type": "CloudWatch Alarm State Change"}}),
            false,
        ),
        (or, json!({"metricName": "CPUUtilization", "detail": {"scope": "Service", "type": "CPUUtilization"}}), false),
        (or, json!({"metricName": "CPUUtilization", "detail": {"type": "CloudWatch Alarm State Change"}}), false),
        (or, json!({"metricName": "CPUUtilization", "detail": {"scope": "Service"}}), false),
        (or, json!({"metricName": "CPUUtilization", "scope": "Service"}), false),
        (
            or,
            json!({"metricName": "AWS/EC2", "detail": {"scope": "Service", "type": "CloudWatch Alarm State Change"}}),
            false,
        ),
        (
            or,
            json!({"namespace": "CPUUtilization", "detail": {"scope": "Service", "type": "CloudWatch Alarm State Change"}}),
            false,
        ),
        (or, json!({"metricName": "CPUUtilization", "detail": {"scope": "Service", "source": "aws.cloudwatch"}}), true),
        (or, json!({"namespace": "AWS/ES", "detail": {"scope": "Service", "source": "aws.cloudwatch"}}), true),
        (
            or,
            json!({"metricName": "CPUUtilization", "detail": {"scope": "Service", "type": "CloudWatch Alarm State Change"}}),
            true,
        ),
        (
            r#"{"detail": {"eventVersion": [""]}}"#,
            json!({"resources": [], "detail": {"eventVersion": "", "responseElements": null}}),
            true,
        ),
        (ip, json!({"detail": {"sourceIPAddress": "10.0.0.255"}}), true),
        (ip, json!({"detail": {"sourceIPAddress": "10.0.0.256"}}), false),
        (ip, json!({"detail": {"sourceIPAddressV6": "2001:0db8:1234:1a00:0000:0000:0000:0000"}}), true),
        (ip, json!({"detail": {"sourceIPAddressV6": "2001:0db8:123f:1a01:0000:0000:0000:0000"}}), false),
        (
            s3,
            json!({"Records": [{"eventName": "ObjectCreated:Put", "s3": {"object": {"key": "auto-insurance-2314.xml"}}}]}),
            true,
        ),
        (
            s3,
            json!({"Records": [{"eventName": "ObjectRemoved:Delete", "s3": {"object": {"key": "auto-insurance-2314.xml"}}}]}),
            false,
        ),
        (
            s3,
            json!({"Records": [{"eventName": "ObjectCreated:Put", "s3": {"object": {"key": "home-insurance-2314.xml"}}}]}),
            false,
        ),
        (
            s3,
            json!({"Records": [
                {"eventName": "ObjectCreated:Put", "s3": {"object": [[{"key": "auto-insurance-2314.xml"}]]}},
                {"eventName": "ObjectRemoved:Delete", "s3": {"object": {"key": "home-insurance-2314.xml"}}}
            ]}),
            true,
        ),
        // Ruler's array consistency: both fields must come from one record.
        (
            s3,
            json!({"Records": [
                {"eventName": "ObjectCreated:Put", "s3": {"object": {"key": "home-insurance-2314.xml"}}},
                {"eventName": "ObjectRemoved:Delete", "s3": {"object": {"key": "auto-insurance-2314.xml"}}}
            ]}),
            false,
        ),
    ]
}

#[test]
fn documented_and_recorded_body_examples() {
    for (policy, body, expected) in body_cases() {
        assert_eq!(body_match(policy, body.clone()), expected, "{policy} with {body}");
    }
}

#[test]
fn bodies_that_are_not_json_objects_match_nothing() {
    let p = parse(r#"{"a": [{"exists": false}]}"#, BODY);
    assert!(!p.matches_body(None));
    assert!(!p.matches_body(Some(&json!("Regular string message"))));
    assert!(!p.matches_body(Some(&json!([1, 2]))));
    assert!(p.matches_body(Some(&json!({}))));
}

#[test]
fn sns_compares_numbers_to_six_decimals() {
    let p = parse(r#"{"n": [{"numeric": ["=", 1.0000001]}]}"#, ATTRS);
    assert!(p.matches_attributes([("n", "Number", "1.0000002")]));
    assert!(!p.matches_attributes([("n", "Number", "1.000002")]));
    // Outside ±5e9 a number is no longer comparable, only equal as text.
    let big = parse(r#"{"n": [6000000000]}"#, ATTRS);
    assert!(big.matches_attributes([("n", "Number", "6000000000")]));
    assert!(!big.matches_attributes([("n", "Number", "6000000000.0")]));
}

#[test]
fn subscribe_wording() {
    let e = PatternError::Invalid("Invalid parameter: FilterPolicy: Filter policy is too complex".into());
    assert_eq!(
        e.for_subscribe().message(),
        "Invalid parameter: Attributes Reason: FilterPolicy: Filter policy is too complex"
    );
}

#[test]
fn deep_nesting_is_bounded_and_does_not_overflow() {
    // Jackson's nesting limit (1000), reached on a thread with tokio's
    // default 2 MiB stack in a debug build.
    let handle = std::thread::Builder::new().stack_size(2 << 20).spawn(|| {
        let deep = format!("{}{}", "{\"a\":".repeat(1001), "}".repeat(1001));
        let too_deep = error(&deep, BODY);
        let fits = format!("{}[\"x\"]{}", "{\"a\":".repeat(999), "}".repeat(999));
        (too_deep, FilterPolicy::parse_sns(&fits, BODY).map(|_| ()))
    });
    let (too_deep, fits) = handle.expect("spawn").join().expect("no stack overflow");
    assert!(too_deep.contains("Document nesting depth (1001) exceeds the maximum allowed (1000"), "{too_deep}");
    assert_eq!(fits.unwrap_err().message(), "Invalid parameter: FilterPolicy: Filter policy is too complex");
}

#[test]
fn deep_events_and_wide_arrays_are_fine() {
    // As deep as serde_json will parse (128).
    let mut body = json!("x");
    for _ in 0..127 {
        body = json!({"a": body});
    }
    let p = parse(r#"{"a": {"a": ["x"]}}"#, BODY);
    assert!(!p.matches_body(Some(&body)));
    // Many fields drawn from one large array: the search stays bounded.
    let records: Vec<Value> = (0..2000).map(|i| json!({"k": format!("v{i}"), "n": i})).collect();
    let p = parse(r#"{"r": {"k": ["v1999"], "n": [{"numeric": ["<", 1]}]}}"#, BODY);
    assert!(!p.matches_body(Some(&json!({"r": records}))));
}

/// No input may panic: mutate valid policies byte by byte.
#[test]
fn garbage_never_panics() {
    let seeds = [
        r#"{"a": [{"numeric": [">", 0, "<=", 5]}], "$or": [{"b": ["x"]}, {"c": [{"anything-but": {"prefix": "p"}}]}]}"#,
        r#"{"d": {"e": [{"cidr": "10.0.0.0/8"}, {"wildcard": "a*\\*"}, {"suffix": "s"}, null, true, 1.5e3]}}"#,
    ];
    let noise = ['"', '{', '}', '[', ']', ',', ':', '\\', '0', '-', 'e', '.', '*', '/', ' ', '\u{1}', 'é', '😀'];
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for seed in seeds {
        for _ in 0..3000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut chars: Vec<char> = seed.chars().collect();
            let at = (state % chars.len() as u64) as usize;
            let c = noise[(state >> 32) as usize % noise.len()];
            match state % 3 {
                0 => chars[at] = c,
                1 => chars.insert(at, c),
                _ => {
                    chars.remove(at);
                }
            }
            let text: String = chars.into_iter().collect();
            for scope in [ATTRS, BODY] {
                if let Ok(p) = FilterPolicy::parse_sns(&text, scope) {
                    p.matches_body(Some(&json!({"a": 1, "d": {"e": ["10.1.2.3", "a*"]}})));
                    p.matches_attributes([("a", "Number", "1"), ("b", "String.Array", "[\"x\"")]);
                }
            }
            let _ = super::EventPattern::parse(&text);
        }
    }
}

#[test]
fn compiled_types_are_shareable() {
    fn shareable<T: Clone + std::fmt::Debug + Send + Sync>() {}
    shareable::<FilterPolicy>();
    shareable::<super::EventPattern>();
    shareable::<PatternError>();
}

#[test]
fn big_policies_fail_fast_and_cleanly() {
    // 15,000 nested keys under one parent (about 200 KB): one key for the
    // key limit, but 2^15000 combinations.
    let keys: Vec<String> = (0..15_000).map(|i| format!(r#""k{i}": ["v"]"#)).collect();
    let wide = format!(r#"{{"a": {{{}}}}}"#, keys.join(","));
    let started = std::time::Instant::now();
    assert_eq!(error(&wide, BODY), "Invalid parameter: FilterPolicy: Filter policy is too complex");
    // Twenty parallel $or pairs would be 2^20 branches; expansion stops at the limit.
    let ors: Vec<String> = (0..20).map(|i| format!(r#""n{i}": {{"$or": [{{"x": ["1"]}}, {{"y": ["2"]}}]}}"#)).collect();
    let parallel = format!(r#"{{"p": {{{}}}}}"#, ors.join(","));
    assert_eq!(error(&parallel, BODY), "Invalid parameter: FilterPolicy: Filter policy is too complex");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn event_pattern_expansion_is_capped() {
    let ors: Vec<String> = (0..13).map(|i| format!(r#""n{i}": {{"$or": [{{"x": ["1"]}}, {{"y": ["2"]}}]}}"#)).collect();
    let pattern = format!("{{{}}}", ors.join(","));
    let err = super::EventPattern::parse(&pattern).unwrap_err();
    assert_eq!(err.message(), "Event pattern is not valid. Reason: Rule is too complex");
}
