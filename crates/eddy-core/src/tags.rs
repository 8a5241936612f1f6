//! Resource tags, shared by every service: AWS's common limits (keys of
//! 1–128 characters, values of 0–256, at most 50 per resource). Each
//! service words the violation its own way, so checks return what was
//! wrong and the service builds its error.

use std::collections::BTreeMap;

pub type Tags = BTreeMap<String, String>;

/// Most tags one resource may carry on SQS, SNS, Kinesis and the rest.
pub const MAX_TAGS: usize = 50;
const MAX_KEY_CHARS: usize = 128;
const MAX_VALUE_CHARS: usize = 256;

/// What is wrong with a set of tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagViolation {
    /// The resource would carry more than the limit.
    TooMany,
    /// A key that is empty, too long, or (where reserved) starts with `aws:`.
    Key(String),
    /// A value that is too long (the tag's key).
    Value(String),
}

/// The rules of one service.
#[derive(Debug, Clone, Copy)]
pub struct TagRules {
    pub max_tags: usize,
    /// Keys starting with `aws:` are AWS's own and refused (SNS, and most services).
    pub reserve_aws_prefix: bool,
}

impl TagRules {
    pub const AWS: TagRules = TagRules { max_tags: MAX_TAGS, reserve_aws_prefix: true };

    /// A new resource's tags: the count first, then each tag.
    pub fn check(&self, tags: &Tags) -> Result<(), TagViolation> {
        if tags.len() > self.max_tags {
            return Err(TagViolation::TooMany);
        }
        self.check_each(tags)
    }

    /// Each tag's key and value.
    pub fn check_each(&self, tags: &Tags) -> Result<(), TagViolation> {
        for (k, v) in tags {
            let reserved = self.reserve_aws_prefix && k.starts_with("aws:");
            if k.is_empty() || k.chars().count() > MAX_KEY_CHARS || reserved {
                return Err(TagViolation::Key(k.clone()));
            }
            if v.chars().count() > MAX_VALUE_CHARS {
                return Err(TagViolation::Value(k.clone()));
            }
        }
        Ok(())
    }

    /// The resource's tags once `new` is added (a key given again replaces
    /// its value), or the violation; `existing` is left untouched either way.
    pub fn merged(&self, existing: &Tags, new: &Tags) -> Result<Tags, TagViolation> {
        self.check(new)?;
        let mut all = existing.clone();
        all.extend(new.iter().map(|(k, v)| (k.clone(), v.clone())));
        if all.len() > self.max_tags {
            return Err(TagViolation::TooMany);
        }
        Ok(all)
    }
}

/// The resource's tags without `keys` (absent keys are ignored, as on AWS).
pub fn without(existing: &Tags, keys: &[String]) -> Tags {
    existing.iter().filter(|(k, _)| !keys.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn keys_and_values_within_aws_limits() {
        let rules = TagRules::AWS;
        assert_eq!(rules.check_each(&tags(&[("k", ""), (&"k".repeat(128), &"v".repeat(256))])), Ok(()));
        assert_eq!(rules.check_each(&tags(&[("", "v")])), Err(TagViolation::Key(String::new())));
        assert_eq!(rules.check_each(&tags(&[(&"k".repeat(129), "v")])), Err(TagViolation::Key("k".repeat(129))));
        assert_eq!(rules.check_each(&tags(&[("k", &"v".repeat(257))])), Err(TagViolation::Value("k".into())));
        assert_eq!(rules.check_each(&tags(&[("aws:x", "v")])), Err(TagViolation::Key("aws:x".into())));
        let open = TagRules { reserve_aws_prefix: false, ..TagRules::AWS };
        assert_eq!(open.check_each(&tags(&[("aws:x", "v")])), Ok(()));
        let many: Tags = (0..51).map(|i| (format!("aws:{i}"), String::new())).collect();
        assert_eq!(rules.check(&many), Err(TagViolation::TooMany));
    }

    #[test]
    fn merging_counts_replaced_keys_once_and_leaves_the_original_alone() {
        let existing: Tags = (0..49).map(|i| (format!("k{i}"), "v".to_string())).collect();
        let merged = TagRules::AWS.merged(&existing, &tags(&[("k0", "new"), ("extra", "v")])).unwrap();
        assert_eq!(merged.len(), 50);
        assert_eq!(merged["k0"], "new");
        assert_eq!(existing["k0"], "v");
        assert_eq!(TagRules::AWS.merged(&merged, &tags(&[("one-more", "v")])), Err(TagViolation::TooMany));
        assert_eq!(without(&merged, &["k0".into(), "absent".into()]).len(), 49);
    }
}
