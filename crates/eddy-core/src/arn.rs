//! Amazon Resource Names, shared by every service:
//! `arn:partition:service:region:account-id:resource`. The resource part
//! may itself hold colons or slashes (`stream/name/consumer/c:123`), so an
//! ARN splits into at most six elements.

use std::fmt;

/// A parsed ARN, borrowing from its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

/// Why a text is not an ARN. Services word these their own way (SNS says
/// "An ARN must have at least 6 elements, not 1"; Kinesis "Invalid StreamARN").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArnError {
    /// Fewer than the six colon-separated elements (the count found).
    TooFewElements(usize),
    /// Six elements, but the first is not `arn`.
    NotAnArn,
}

impl<'a> Arn<'a> {
    pub fn parse(text: &'a str) -> Result<Arn<'a>, ArnError> {
        let mut it = text.splitn(6, ':');
        let elements: [Option<&str>; 6] = std::array::from_fn(|_| it.next());
        let found = elements.iter().flatten().count();
        let [Some(head), Some(partition), Some(service), Some(region), Some(account), Some(resource)] = elements else {
            return Err(ArnError::TooFewElements(found));
        };
        if head != "arn" {
            return Err(ArnError::NotAnArn);
        }
        Ok(Arn { partition, service, region, account, resource })
    }

    /// `arn:aws:{service}:{region}:{account}:{resource}`: eddy serves the
    /// `aws` partition.
    pub fn format(service: &str, region: &str, account: &str, resource: &str) -> String {
        format!("arn:aws:{service}:{region}:{account}:{resource}")
    }

    /// Whether the ARN names a resource of this service, region and account.
    pub fn is_in(&self, service: &str, region: &str, account: &str) -> bool {
        self.service == service && self.region == region && self.account == account
    }

    /// The resource's type and id, for `type/id` resources (`stream/s`,
    /// `rule/r`); None for plain names such as a queue's or a topic's.
    pub fn typed_resource(&self) -> Option<(&'a str, &'a str)> {
        self.resource.split_once('/')
    }
}

impl fmt::Display for Arn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Arn { partition, service, region, account, resource } = self;
        write!(f, "arn:{partition}:{service}:{region}:{account}:{resource}")
    }
}

/// A 12-digit AWS account id.
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_six_elements_and_keeps_colons_in_the_resource() {
        let arn = Arn::parse("arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1700000000").unwrap();
        assert_eq!(arn.service, "kinesis");
        assert_eq!(arn.account, "000000000000");
        assert_eq!(arn.resource, "stream/s/consumer/c:1700000000");
        assert_eq!(arn.typed_resource(), Some(("stream", "s/consumer/c:1700000000")));
        assert!(arn.is_in("kinesis", "us-east-1", "000000000000"));
        assert!(!arn.is_in("kinesis", "eu-west-1", "000000000000"));
        assert_eq!(arn.to_string(), "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1700000000");
    }

    #[test]
    fn counts_the_elements_of_a_short_arn() {
        assert_eq!(Arn::parse("topic"), Err(ArnError::TooFewElements(1)));
        assert_eq!(Arn::parse(""), Err(ArnError::TooFewElements(1)));
        assert_eq!(Arn::parse("arn:aws:sns:us-east-1:1"), Err(ArnError::TooFewElements(5)));
        assert_eq!(Arn::parse("nra:aws:sns:us-east-1:1:t"), Err(ArnError::NotAnArn));
    }

    #[test]
    fn formats_in_the_aws_partition() {
        let text = Arn::format("sqs", "eu-west-1", "123456789012", "q");
        assert_eq!(text, "arn:aws:sqs:eu-west-1:123456789012:q");
        assert_eq!(Arn::parse(&text).unwrap().typed_resource(), None);
        assert!(is_account_id("123456789012"));
        assert!(!is_account_id("12345678901a"));
    }
}
