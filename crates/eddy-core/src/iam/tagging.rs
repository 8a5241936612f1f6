//! Tags on users, roles, policies and instance profiles: AWS's common
//! limits (50 per resource, keys of 1–128 characters, values up to 256),
//! worded as IAM words them.

use super::error::{constraint, IamError, IamResult};
use crate::tags::{TagRules, TagViolation, Tags};

/// IAM refuses `aws:` keys as every service does.
const RULES: TagRules = TagRules::AWS;

pub fn check_new(tags: &Tags) -> IamResult<()> {
    RULES.check(tags).map_err(error)
}

/// `existing` with `new` added (a key given again replaces its value).
pub fn merged(existing: &Tags, new: &Tags) -> IamResult<Tags> {
    RULES.merged(existing, new).map_err(error)
}

fn error(v: TagViolation) -> IamError {
    match v {
        TagViolation::TooMany => {
            IamError::LimitExceeded("The number of tags has reached the maximum limit of 50.".into())
        }
        TagViolation::Key(k) if k.starts_with("aws:") => {
            IamError::InvalidInput("The tag key cannot begin with the prefix aws:.".into())
        }
        TagViolation::Key(k) if k.is_empty() => {
            constraint("tags.member.key", &k, "Member must have length greater than or equal to 1")
        }
        TagViolation::Key(k) => constraint("tags.member.key", &k, "Member must have length less than or equal to 128"),
        TagViolation::Value(k) => {
            constraint("tags.member.value", &k, "Member must have length less than or equal to 256")
        }
    }
}
