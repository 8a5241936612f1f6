//! awsQuery request bodies: arbitrary bytes through `parse_form` and
//! `decode_sqs`, then what eddy does with a decoded request: the action's
//! input shape, and an XML response rendered from the decoded input.
#![no_main]

use eddy_fuzz::{decode_input, render};
use eddy_wire::query::{decode_sqs, parse_form, QueryError, MAX_PAIRS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let pairs = parse_form(data);
    match decode_sqs(&pairs) {
        Ok(request) => {
            assert!(!request.action.is_empty());
            assert!(request.input.is_object());
            let _ = decode_input(&request.action, &request.input);
            render(&request.action, Some(&request.input));
        }
        Err(QueryError::MissingAction) => {
            // The first Action parameter decides.
            let action = pairs.iter().find(|(k, _)| k == "Action");
            assert!(action.is_none_or(|(_, v)| v.is_empty()));
        }
        Err(QueryError::Malformed(_)) => {}
        Err(QueryError::TooManyParameters) => assert!(pairs.len() > MAX_PAIRS),
    }
});
