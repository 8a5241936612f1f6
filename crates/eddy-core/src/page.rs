//! Pagination shared by every service's List* operations: pages of items in
//! key order, continued by an opaque token that eddy issued.
//!
//! A token names its listing and the last key it returned, carries the
//! time it was issued, and is sealed with a MAC under a key kept in the
//! store (so tokens outlive a restart and hold across nodes that share a
//! store). A token eddy did not issue (garbage, a crafted number, another
//! listing's token, one from the future) is [`TokenError::Invalid`], never a
//! silent restart from the first page or an overflow. Keyed on the last
//! key, a page does not repeat or skip items created or deleted in between.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::clock::Millis;
use eddy_store::{Store, StoreError};

/// Where the MAC key is kept: a partition of eddy's own.
const PARTITION: &str = "eddy";
const KEY: &[u8] = b"page-token-key";
const MAC_BYTES: usize = 16;
/// Longer tokens are refused before decoding: a listing's last key is a
/// name or an ARN, far below this.
const MAX_TOKEN_CHARS: usize = 4096;

/// Why a token was refused; each service words it its own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    Invalid,
    /// Issued by eddy for this listing, but longer ago than the listing allows.
    Expired,
}

/// Issues and reads the tokens of every listing.
#[derive(Clone)]
pub struct PageTokens {
    key: [u8; 32],
}

/// One page of a listing, and the token of the next if more follow.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_token: Option<String>,
}

impl PageTokens {
    /// The store's token key, made on first use and kept durably.
    pub fn open(store: &Store) -> Result<PageTokens, StoreError> {
        let part = store.partition(PARTITION)?;
        if let Some(key) = part.get(KEY)?.and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok()) {
            return Ok(PageTokens { key });
        }
        let mut key = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut key);
        let mut batch = store.batch();
        batch.put(&part, KEY.to_vec(), key.to_vec());
        store.make_durable_soon(batch.commit()?)?;
        Ok(PageTokens { key })
    }

    #[cfg(test)]
    fn with_key(key: [u8; 32]) -> PageTokens {
        PageTokens { key }
    }

    fn mac(&self, listing: &str, issued: Millis, last: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.key);
        for part in [listing.as_bytes(), issued.to_string().as_bytes(), last.as_bytes()] {
            h.update(part);
            h.update([0]);
        }
        hex::encode(&h.finalize()[..MAC_BYTES])
    }

    /// Standard base64, as AWS's tokens are (clients may decode them).
    pub fn issue(&self, listing: &str, last: &str, now: Millis) -> String {
        STANDARD.encode(format!("{now}.{}.{}", hex::encode(last.as_bytes()), self.mac(listing, now, last)))
    }

    /// The key a token continues after. `lifetime_ms`: how long the
    /// listing's tokens stay valid (Kinesis: 300 s), None for ever.
    pub fn read(
        &self,
        listing: &str,
        token: &str,
        now: Millis,
        lifetime_ms: Option<u64>,
    ) -> Result<String, TokenError> {
        let (issued, last) = self.open_sealed(listing, token).ok_or(TokenError::Invalid)?;
        // Only ever issued in the past: one from the future is crafted.
        let age = now.checked_sub(issued).ok_or(TokenError::Invalid)?;
        match lifetime_ms {
            Some(limit) if age > limit => Err(TokenError::Expired),
            _ => Ok(last),
        }
    }

    fn open_sealed(&self, listing: &str, token: &str) -> Option<(Millis, String)> {
        if token.len() > MAX_TOKEN_CHARS {
            return None;
        }
        let text = String::from_utf8(STANDARD.decode(token).ok()?).ok()?;
        let mut parts = text.splitn(3, '.');
        let (issued, last, mac) = (parts.next()?, parts.next()?, parts.next()?);
        let issued: Millis = issued.parse().ok()?;
        let last = String::from_utf8(hex::decode(last).ok()?).ok()?;
        (mac == self.mac(listing, issued, &last)).then_some((issued, last))
    }

    /// The page of `items` (sorted by `key`) that the request's token
    /// points at.
    pub fn page<T>(
        &self,
        items: impl IntoIterator<Item = T>,
        key: impl Fn(&T) -> &str,
        req: &PageRequest<'_>,
    ) -> Result<Page<T>, TokenError> {
        let after = match req.token.filter(|t| !t.is_empty()) {
            Some(t) => Some(self.read(req.listing, t, req.now, req.lifetime_ms)?),
            None => None,
        };
        let mut rest = items.into_iter().filter(|i| after.as_deref().is_none_or(|a| key(i) > a));
        let items: Vec<T> = rest.by_ref().take(req.limit).collect();
        let more = rest.next().is_some();
        let next_token = items.last().filter(|_| more).map(|last| self.issue(req.listing, key(last), req.now));
        Ok(Page { items, next_token })
    }
}

/// What one List* call asks for.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest<'a> {
    /// Names the listing (and its scope, e.g. the account and region), so a
    /// token of one listing is refused by another.
    pub listing: &'a str,
    pub token: Option<&'a str>,
    pub limit: usize,
    pub now: Millis,
    /// How long the listing's tokens stay valid (Kinesis: 300 s); None for ever.
    pub lifetime_ms: Option<u64>,
}

impl<'a> PageRequest<'a> {
    pub fn new(listing: &'a str, token: Option<&'a str>, limit: usize, now: Millis) -> PageRequest<'a> {
        PageRequest { listing, token, limit, now, lifetime_ms: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("q{i:03}")).collect()
    }

    #[test]
    fn pages_walk_the_listing_once_in_key_order() {
        let tokens = PageTokens::with_key([7; 32]);
        let (mut seen, mut token) = (Vec::new(), None);
        loop {
            let page = tokens
                .page(names(25), |s| s.as_str(), &PageRequest::new("queues", token.as_deref(), 10, 1_000))
                .unwrap();
            seen.extend(page.items);
            match page.next_token {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        assert_eq!(seen, names(25));
    }

    #[test]
    fn a_page_continues_after_its_key_when_items_change() {
        let tokens = PageTokens::with_key([7; 32]);
        let first = tokens.page(names(5), |s| s.as_str(), &PageRequest::new("l", None, 2, 0)).unwrap();
        let mut changed = names(5);
        changed.remove(0);
        let second =
            tokens.page(changed, |s| s.as_str(), &PageRequest::new("l", first.next_token.as_deref(), 2, 0)).unwrap();
        assert_eq!(second.items, vec!["q002", "q003"]);
    }

    #[test]
    fn crafted_foreign_and_future_tokens_are_invalid() {
        let tokens = PageTokens::with_key([7; 32]);
        let good = tokens.issue("topics", "arn:x", 1_000);
        assert_eq!(tokens.read("topics", &good, 1_000, None), Ok("arn:x".into()));
        assert_eq!(tokens.read("subscriptions", &good, 1_000, None), Err(TokenError::Invalid));
        assert_eq!(PageTokens::with_key([8; 32]).read("topics", &good, 1_000, None), Err(TokenError::Invalid));
        assert_eq!(tokens.read("topics", &good, 999, None), Err(TokenError::Invalid));
        for crafted in ["", "garbage", "18446744073709551615", &STANDARD.encode("99999999999999999999999.00.00")] {
            assert_eq!(tokens.read("topics", crafted, 1_000, None), Err(TokenError::Invalid), "{crafted}");
        }
        assert_eq!(tokens.read("topics", &"A".repeat(10_000), 1_000, None), Err(TokenError::Invalid));
    }

    #[test]
    fn tokens_expire_after_the_listings_lifetime() {
        let tokens = PageTokens::with_key([7; 32]);
        let t = tokens.issue("streams", "s", 1_000);
        assert_eq!(tokens.read("streams", &t, 301_000, Some(300_000)), Ok("s".into()));
        assert_eq!(tokens.read("streams", &t, 301_001, Some(300_000)), Err(TokenError::Expired));
    }

    #[test]
    fn the_key_survives_reopening_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let issued = {
            let store = Store::open(dir.path(), eddy_store::Durability::Flush).unwrap();
            PageTokens::open(&store).unwrap().issue("l", "k", 5)
        };
        let store = Store::open(dir.path(), eddy_store::Durability::Flush).unwrap();
        assert_eq!(PageTokens::open(&store).unwrap().read("l", &issued, 5, None), Ok("k".into()));
    }
}
