//! Model-level checks (lengths, patterns, ranges) with AWS's
//! ValidationException wording: "1 validation error detected: Value 'x'
//! at 'streamName' failed to satisfy constraint: Member must …".

use super::error::KinesisError;

/// Collects the failures of one request; AWS reports them all at once.
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

    pub fn range(&mut self, value: Option<i64>, field: &str, min: i64, max: i64) {
        let Some(v) = value else { return };
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

    pub fn done(self) -> Result<(), KinesisError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(validation_error(self.0))
        }
    }
}

pub fn validation_error(errors: Vec<String>) -> KinesisError {
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
        c.name(Some("bad name"), "streamName", 128);
        c.range(Some(0), "shardCount", 1, 100_000);
        let KinesisError::Validation(m) = c.done().unwrap_err() else { panic!() };
        assert_eq!(
            m,
            "2 validation errors detected: Value 'bad name' at 'streamName' failed to satisfy constraint: Member must \
             satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value '0' at 'shardCount' failed to satisfy \
             constraint: Member must have value greater than or equal to 1"
        );
    }
}
