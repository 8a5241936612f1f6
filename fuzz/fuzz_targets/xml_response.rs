//! awsQuery responses: `xml::sqs_response` over arbitrary JSON values. The
//! first byte picks the action (or, past the list, a made-up one), the rest
//! is the JSON output.
#![no_main]

use eddy_fuzz::{render, ACTIONS};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, json)) = data.split_first() else { return };
    let action = ACTIONS.get(usize::from(pick)).copied().unwrap_or("FuzzAction");
    if let Ok(v) = serde_json::from_slice::<Value>(json) {
        render(action, Some(&v));
    }
    render(action, None);
});
