//! The model's constraints (lengths, patterns, ranges, enums) with AWS's
//! ValidationException wording: "1 validation error detected: Value 'x'
//! at 'streamName' failed to satisfy constraint: Member must …". A
//! request's failures of one pass are reported together, in check order.
//! (eddy-core's `kinesis::Checks` words the record checks it makes on every
//! append the same way; the core does not depend on this crate.)

use crate::error::WireError;

/// Collects the failures of one pass over a request.
#[derive(Default)]
pub struct Checks(Vec<String>);

impl Checks {
    fn fail(&mut self, value: &str, field: &str, constraint: &str) {
        self.0.push(format!("Value '{value}' at '{field}' failed to satisfy constraint: Member must {constraint}"));
    }

    /// A name of `[a-zA-Z0-9_.-]+`, 1..=max characters.
    pub fn name(&mut self, value: Option<&str>, field: &str, max: usize) {
        let Some(v) = value else { return };
        if v.chars().count() > max {
            self.fail(v, field, &format!("have length less than or equal to {max}"));
        }
        if v.is_empty() {
            self.fail(v, field, "have length greater than or equal to 1");
        } else if !v.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)) {
            self.fail(v, field, "satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
        }
    }

    pub fn length(&mut self, value: Option<&str>, field: &str, min: usize, max: usize) {
        let Some(v) = value else { return };
        let len = v.chars().count();
        if len < min {
            self.fail(v, field, &format!("have length greater than or equal to {min}"));
        } else if len > max {
            self.fail(v, field, &format!("have length less than or equal to {max}"));
        }
    }

    pub fn range(&mut self, value: Option<i32>, field: &str, min: i64, max: i64) {
        let Some(v) = value.map(i64::from) else { return };
        if v < min {
            self.fail(&v.to_string(), field, &format!("have value greater than or equal to {min}"));
        } else if v > max {
            self.fail(&v.to_string(), field, &format!("have value less than or equal to {max}"));
        }
    }

    pub fn one_of(&mut self, value: Option<&str>, field: &str, allowed: &[&str]) {
        let Some(v) = value else { return };
        if !allowed.contains(&v) {
            self.fail(v, field, &format!("satisfy enum value set: [{}]", allowed.join(", ")));
        }
    }

    pub fn custom(&mut self, value: &str, field: &str, constraint: &str) {
        self.fail(value, field, constraint);
    }

    pub fn done(self) -> Result<(), WireError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(validation_error(self.0))
        }
    }
}

pub fn validation_error(errors: Vec<String>) -> WireError {
    let n = errors.len();
    let plural = if n == 1 { "error" } else { "errors" };
    let message = format!("{n} validation {plural} detected: {}", errors.join("; "));
    WireError::new("ValidationException", "ValidationException", 400, message)
}

/// A required member is absent (`name` as the model spells it, a dotted
/// path for a nested one): a null at its lowerCamelCase name.
pub fn missing(name: &str) -> WireError {
    let mut chars = name.chars();
    let field = chars.next().map(|c| c.to_ascii_lowercase().to_string() + chars.as_str()).unwrap_or_default();
    validation_error(vec![format!("Value null at '{field}' failed to satisfy constraint: Member must not be null")])
}

/// One check that stops the request on its own.
pub fn one_of(value: &str, field: &str, allowed: &[&str]) -> Result<(), WireError> {
    let mut c = Checks::default();
    c.one_of(Some(value), field, allowed);
    c.done()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_follow_aws() {
        let mut c = Checks::default();
        c.name(Some("bad name"), "streamName", 128);
        c.range(Some(0), "shardCount", 1, 100_000);
        assert_eq!(
            c.done().unwrap_err().message,
            "2 validation errors detected: Value 'bad name' at 'streamName' failed to satisfy constraint: Member must \
             satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value '0' at 'shardCount' failed to satisfy \
             constraint: Member must have value greater than or equal to 1"
        );
        let e = missing("StreamModeDetails.StreamMode");
        assert_eq!((e.shape, e.status), ("ValidationException", 400));
        assert_eq!(
            e.message,
            "1 validation error detected: Value null at 'streamModeDetails.StreamMode' failed to satisfy constraint: \
             Member must not be null"
        );
        assert!(Checks::default().done().is_ok());
    }

    #[test]
    fn a_long_bad_name_fails_twice() {
        let mut c = Checks::default();
        c.name(Some(&"x ".repeat(70)), "consumerName", 128);
        let m = c.done().unwrap_err().message;
        assert!(m.starts_with("2 validation errors detected:"), "{m}");
    }
}
