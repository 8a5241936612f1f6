//! Who is calling, shared by every service: the account and region a
//! request's resources live in, and the access key that signed it.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account: String,
    pub region: String,
    pub access_key: String,
}
