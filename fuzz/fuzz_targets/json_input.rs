//! awsJson request bodies: arbitrary bytes decoded into every SQS input
//! shape directly, and the way eddy does it (a JSON value first, then the
//! action's shape).
#![no_main]

use eddy_fuzz::{decode_all_shapes, decode_input, ACTIONS};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    decode_all_shapes(data);
    // eddy's bounded decoder agrees with serde_json on every body it accepts.
    if let Ok(v) = eddy_wire::json::decode_object(data, &eddy_wire::json::SQS) {
        if !data.iter().all(u8::is_ascii_whitespace) {
            assert_eq!(serde_json::from_slice::<Value>(data).ok(), Some(v));
        }
    }
    if let Ok(v @ Value::Object(_)) = serde_json::from_slice::<Value>(data) {
        for action in ACTIONS {
            assert!(decode_input(action, &v).is_some());
        }
    }
});
