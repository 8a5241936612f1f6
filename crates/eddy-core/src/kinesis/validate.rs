//! The model's checks on records, made on every append (PutRecord,
//! PutRecords and the per-shard API), with AWS's ValidationException
//! wording: "1 validation error detected: Value 'x' at 'partitionKey'
//! failed to satisfy constraint: Member must …". The checks on a request's
//! other members are made when it is decoded (`eddy_wire::kinesis`, the
//! same wording; this crate does not depend on the wire crate).

use super::error::KinesisError;

/// Collects the failures of one request; AWS reports them all at once.
#[derive(Default)]
pub(crate) struct Checks(Vec<String>);

impl Checks {
    fn fail(&mut self, value: &str, field: &str, constraint: &str) {
        self.0.push(format!("Value '{value}' at '{field}' failed to satisfy constraint: Member must {constraint}"));
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

    pub fn custom(&mut self, value: &str, field: &str, constraint: &str) {
        self.fail(value, field, constraint);
    }

    pub fn done(self) -> Result<(), KinesisError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(validation_error(self.0))
        }
    }
}

fn validation_error(errors: Vec<String>) -> KinesisError {
    let n = errors.len();
    let plural = if n == 1 { "error" } else { "errors" };
    KinesisError::Validation(format!("{n} validation {plural} detected: {}", errors.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_follow_aws() {
        let mut c = Checks::default();
        c.length(Some(""), "partitionKey", 1, 256);
        c.custom("x", "explicitHashKey", "satisfy regular expression pattern: 0|([1-9]\\d{0,38})");
        let KinesisError::Validation(m) = c.done().unwrap_err() else { panic!() };
        assert_eq!(
            m,
            "2 validation errors detected: Value '' at 'partitionKey' failed to satisfy constraint: Member must \
             have length greater than or equal to 1; Value 'x' at 'explicitHashKey' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})"
        );
    }
}
