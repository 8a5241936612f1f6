//! End-to-end tests of eddy through the AWS SDK for Rust; they live in
//! `tests/sdk/`. This library is empty.
