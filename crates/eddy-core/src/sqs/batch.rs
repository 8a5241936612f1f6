//! Rules shared by the three batch operations.

use std::collections::HashSet;

use super::error::{SqsError, SqsResult};

/// 1–10 entries with distinct ids of ≤80 `[A-Za-z0-9_-]` characters.
/// `entry_kind` names the entry type in AWS's EmptyBatchRequest message.
pub fn validate_batch_ids<'a>(ids: impl IntoIterator<Item = &'a str>, entry_kind: &'static str) -> SqsResult<()> {
    let ids: Vec<&str> = ids.into_iter().collect();
    if ids.is_empty() {
        return Err(SqsError::EmptyBatchRequest(entry_kind));
    }
    if ids.len() > 10 {
        return Err(SqsError::TooManyEntriesInBatchRequest(ids.len()));
    }
    let mut seen = HashSet::new();
    for id in ids {
        if id.is_empty() || id.len() > 80 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(SqsError::InvalidBatchEntryId(id.to_string()));
        }
        if !seen.insert(id) {
            return Err(SqsError::BatchEntryIdsNotDistinct(id.to_string()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_id_rules() {
        assert!(matches!(validate_batch_ids([], "x"), Err(SqsError::EmptyBatchRequest(_))));
        assert!(matches!(
            validate_batch_ids(["a"; 11].iter().copied(), "x"),
            Err(SqsError::TooManyEntriesInBatchRequest(11))
        ));
        assert!(matches!(validate_batch_ids(["a", "a"], "x"), Err(SqsError::BatchEntryIdsNotDistinct(_))));
        assert!(matches!(validate_batch_ids(["a b"], "x"), Err(SqsError::InvalidBatchEntryId(_))));
        assert!(validate_batch_ids(["a-1", "B_2"], "x").is_ok());
    }
}
