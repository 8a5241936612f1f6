//! What can go wrong in SNS, independent of how the wire spells it. The
//! binary maps each variant to AWS's code and HTTP status.

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SnsError {
    /// `NotFound` (404): a topic or subscription that does not exist.
    #[error("{0}")]
    NotFound(String),
    /// `InvalidParameter` (400): AWS's catch-all validation error.
    #[error("{0}")]
    InvalidParameter(String),
    /// `ParameterValueInvalid` (400): a bad message attribute value.
    #[error("{0}")]
    InvalidParameterValue(String),
    /// `ResourceNotFound` (404): tagging operations on a missing resource.
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    TagLimitExceeded(String),
    #[error("{0}")]
    FilterPolicyLimitExceeded(String),
    #[error("{0}")]
    AuthorizationError(String),
    #[error("{0}")]
    EndpointDisabled(String),
    #[error("The batch request doesn't contain any entries.")]
    EmptyBatchRequest,
    #[error("The batch request contains more entries than permissible.")]
    TooManyEntriesInBatchRequest,
    #[error("Two or more batch entries in the request have the same Id.")]
    BatchEntryIdsNotDistinct,
    #[error("The length of all the messages put together is more than the limit.")]
    BatchRequestTooLong,
    #[error("{0}")]
    InvalidBatchEntryId(String),
    #[error("{0}")]
    Validation(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<eddy_store::StoreError> for SnsError {
    fn from(e: eddy_store::StoreError) -> SnsError {
        SnsError::Internal(e.to_string())
    }
}

pub type SnsResult<T> = Result<T, SnsError>;

/// `Invalid parameter: {what}`, AWS's spelling of most SNS validation errors.
pub(crate) fn invalid(what: impl std::fmt::Display) -> SnsError {
    SnsError::InvalidParameter(format!("Invalid parameter: {what}"))
}

/// AWS's first check of any ARN parameter (recorded): it must have six
/// `:`-separated elements. Returns them.
pub fn arn_elements<'a>(member: &str, arn: &'a str) -> SnsResult<Vec<&'a str>> {
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() < 6 {
        return Err(invalid(format!("{member} Reason: An ARN must have at least 6 elements, not {}", parts.len())));
    }
    Ok(parts)
}

/// A topic ARN member (recorded): fewer than six elements say so (see
/// [`arn_elements`]); other malformed ARNs, and topics of another region
/// than the caller's, are "Invalid parameter: {member}".
pub fn check_topic_arn(member: &str, arn: &str, region: &str) -> SnsResult<()> {
    arn_elements(member, arn)?;
    if !is_local_topic(arn, region) {
        return Err(invalid(member));
    }
    Ok(())
}

/// ConfirmSubscription's TopicArn (recorded): a malformed topic ARN, short
/// or not, or a topic of another region than the caller's, is
/// "Invalid parameter: Topic".
pub fn check_confirmation_topic(arn: &str, region: &str) -> SnsResult<()> {
    if !is_local_topic(arn, region) {
        return Err(invalid("Topic"));
    }
    Ok(())
}

/// A well-formed topic ARN of `region`.
fn is_local_topic(arn: &str, region: &str) -> bool {
    // Exactly six elements: a topic name holds no colon.
    crate::arn::Arn::parse(arn).is_ok_and(|a| {
        a.service == "sns"
            && a.region == region
            && !a.account.is_empty()
            && !a.resource.is_empty()
            && !a.resource.contains(':')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_arns_of_the_callers_region() {
        assert_eq!(check_topic_arn("TopicArn", "arn:aws:sns:us-east-1:1:t", "us-east-1"), Ok(()));
        let short = check_topic_arn("TopicArn", "arn:aws:sns", "us-east-1").unwrap_err().to_string();
        assert_eq!(short, "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 3");
        for arn in ["arn:aws:sns:eu-west-1:1:t", "arn:aws:sqs:us-east-1:1:t", "arn:aws:sns:us-east-1::t"] {
            let e = check_topic_arn("TopicArn", arn, "us-east-1").unwrap_err();
            assert_eq!(e, SnsError::InvalidParameter("Invalid parameter: TopicArn".into()));
        }
        assert_eq!(
            check_confirmation_topic("arn:aws", "us-east-1").unwrap_err(),
            SnsError::InvalidParameter("Invalid parameter: Topic".into())
        );
    }
}
