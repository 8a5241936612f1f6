//! The verifier against AWS's published SigV4 test suite
//! (`testdata/sigv4-suite`), then the refusals one by one.

use super::*;

const SUITE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/sigv4-suite");
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// The suite's clock: 2015-08-30T12:36:00Z.
const SUITE_NOW: i64 = 1_440_938_160;

/// An HTTP/1.1 request as the suite writes it: request line, `Name:value`
/// headers (continuation lines start with whitespace), blank line, body.
struct Owned {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Owned {
    fn parse(text: &str) -> Owned {
        let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
        let mut lines = head.lines();
        // The target may hold spaces (get-space): it ends at the protocol.
        let request_line = lines.next().unwrap().trim_end_matches(" HTTP/1.1");
        let (method, target) = request_line.split_once(' ').unwrap();
        let method = method.to_string();
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in lines {
            if line.starts_with([' ', '\t']) {
                let last = headers.last_mut().unwrap();
                last.1 = format!("{} {}", last.1, line.trim());
            } else if let Some((name, value)) = line.split_once(':') {
                headers.push((name.to_ascii_lowercase(), value.to_string()));
            }
        }
        Owned { method, path: path.into(), query: query.into(), headers, body: body.as_bytes().to_vec() }
    }

    fn request(&self) -> Request<'_> {
        Request {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect(),
            body: &self.body,
        }
    }
}

fn rules(s3: bool) -> Rules {
    Rules { service: "service", max_skew_secs: 900, s3 }
}

/// Every case the suite signs both ways: AWS's canonical request rebuilt
/// byte for byte, and its signature verified.
#[test]
fn aws_signing_test_suite() {
    let mut checked = 0;
    for entry in std::fs::read_dir(SUITE).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let context = std::fs::read_to_string(dir.join("context.json")).unwrap();
        let normalize = context.contains("\"normalize\": true");
        for location in ["header", "query"] {
            // Unnormalized paths are S3's rule, whose presigned URLs sign
            // UNSIGNED-PAYLOAD where the suite signs the empty body.
            if !normalize && location == "query" {
                continue;
            }
            // The token appended to the URL after signing (as IoT wants it):
            // the services eddy speaks sign it with the rest.
            if name == "post-sts-header-after" && location == "query" {
                continue;
            }
            let Ok(signed_text) = std::fs::read_to_string(dir.join(format!("{location}-signed-request.txt"))) else {
                continue;
            };
            let owned = Owned::parse(&signed_text);
            let req = owned.request();
            let signed = read(&req).unwrap().unwrap_or_else(|| panic!("{name} {location}: no signature"));
            let expected = std::fs::read_to_string(dir.join(format!("{location}-canonical-request.txt"))).unwrap();
            let payload = payload(&req, &signed, &rules(!normalize)).unwrap();
            let built = canonical::request(&req, &signed, payload.canonical(), !normalize);
            assert_eq!(built, expected, "{name} {location}: canonical request");
            let verified = Verifier::new().verify(&req, signed.clone(), SECRET, &rules(!normalize), SUITE_NOW);
            let verified = verified.unwrap_or_else(|e| panic!("{name} {location}: {e:?}"));
            assert_eq!(verified.seed_signature, signed.signature);
            checked += 1;
        }
    }
    assert!(checked >= 60, "only {checked} cases checked");
}

fn vanilla() -> Owned {
    let dir = format!("{SUITE}/get-vanilla");
    Owned::parse(&std::fs::read_to_string(format!("{dir}/header-signed-request.txt")).unwrap())
}

fn verify_at(owned: &Owned, secret: &str, now: i64) -> Result<Verified, SigError> {
    let req = owned.request();
    let signed = read(&req)?.ok_or(SigError::Missing)?;
    Verifier::new().verify(&req, signed, secret, &rules(false), now)
}

#[test]
fn wrong_secret_or_changed_request_mismatch() {
    let owned = vanilla();
    assert!(verify_at(&owned, SECRET, SUITE_NOW).is_ok());
    assert_eq!(verify_at(&owned, "other", SUITE_NOW).unwrap_err(), SigError::Mismatch(MISMATCH_MESSAGE.into()));
    let mut moved = vanilla();
    moved.path = "/other".into();
    assert!(matches!(verify_at(&moved, SECRET, SUITE_NOW), Err(SigError::Mismatch(_))));
    // A signed header gone from the request.
    let mut stripped = vanilla();
    stripped.headers.retain(|(n, _)| n != "host");
    assert!(matches!(verify_at(&stripped, SECRET, SUITE_NOW), Err(SigError::Mismatch(_))));
}

#[test]
fn scope_must_name_the_service_and_the_date() {
    let owned = vanilla();
    let req = owned.request();
    let signed = read(&req).unwrap().unwrap();
    let sqs = Rules { service: "sqs", ..rules(false) };
    assert_eq!(
        Verifier::new().verify(&req, signed.clone(), SECRET, &sqs, SUITE_NOW).unwrap_err(),
        SigError::Mismatch("Credential should be scoped to correct service: 'sqs'. ".into())
    );
    let mut other_day = signed;
    other_day.credential.date = "20150831".into();
    let err = Verifier::new().verify(&req, other_day, SECRET, &rules(false), SUITE_NOW).unwrap_err();
    assert!(matches!(err, SigError::Mismatch(m) if m.starts_with("Date in Credential scope does not match")));
}

#[test]
fn clock_skew_both_ways() {
    let owned = vanilla();
    assert!(verify_at(&owned, SECRET, SUITE_NOW + 900).is_ok());
    assert_eq!(
        verify_at(&owned, SECRET, SUITE_NOW + 901).unwrap_err(),
        SigError::Skewed(
            "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T125101Z - 15 min.)"
                .into()
        )
    );
    assert_eq!(
        verify_at(&owned, SECRET, SUITE_NOW - 901).unwrap_err(),
        SigError::Skewed(
            "Signature not yet current: 20150830T123600Z is still later than 20150830T123559Z (20150830T122059Z + 15 min.)"
                .into()
        )
    );
}

#[test]
fn presigned_urls_expire() {
    let dir = format!("{SUITE}/get-vanilla");
    let owned = Owned::parse(&std::fs::read_to_string(format!("{dir}/query-signed-request.txt")).unwrap());
    // X-Amz-Expires=3600: valid to the second, past the skew window too.
    assert!(verify_at(&owned, SECRET, SUITE_NOW + 3600).is_ok());
    assert_eq!(verify_at(&owned, SECRET, SUITE_NOW + 3601).unwrap_err(), SigError::PresignExpired);
    assert!(matches!(verify_at(&owned, SECRET, SUITE_NOW - 901), Err(SigError::Skewed(_))));
}

#[test]
fn incomplete_signatures_list_what_is_missing() {
    let mut owned = vanilla();
    owned.headers.retain(|(n, _)| n != "authorization");
    owned.headers.push((
        "authorization".into(),
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request".into(),
    ));
    let err = verify_at(&owned, SECRET, SUITE_NOW).unwrap_err();
    assert_eq!(
        err,
        SigError::Incomplete(
            "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' \
             parameter. Authorization=AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
                .into()
        )
    );
    owned.headers.last_mut().unwrap().1 = "AWS4-HMAC-SHA256 Credential=AKID /20150830/us-east-1/s/aws4_request".into();
    assert!(
        matches!(verify_at(&owned, SECRET, SUITE_NOW), Err(SigError::Incomplete(m)) if m.contains("missing equal-sign"))
    );
    owned.headers.last_mut().unwrap().1 = "AWS AKID:sig".into();
    assert!(matches!(verify_at(&owned, SECRET, SUITE_NOW), Err(SigError::Incomplete(m)) if m.contains("'AWS'")));
    let unsigned = Owned::parse("GET / HTTP/1.1\nHost:example.amazonaws.com\n\n");
    assert_eq!(read(&unsigned.request()), Ok(None));
}

#[test]
fn declared_body_hash_must_match() {
    let dir = format!("{SUITE}/post-x-www-form-urlencoded");
    let mut owned = Owned::parse(&std::fs::read_to_string(format!("{dir}/header-signed-request.txt")).unwrap());
    assert!(matches!(verify_at(&owned, SECRET, SUITE_NOW).unwrap().payload, Payload::Hash(_)));
    owned.body = b"Param1=value2".to_vec();
    assert_eq!(verify_at(&owned, SECRET, SUITE_NOW).unwrap_err(), SigError::PayloadHashMismatch);
}

#[test]
fn streaming_payloads_return_the_seed_for_chunk_signatures() {
    let mut owned = Owned::parse("PUT /bucket/key HTTP/1.1\nHost:s3.amazonaws.com\nX-Amz-Date:20150830T123600Z\n\n");
    owned.headers.push(("x-amz-content-sha256".into(), "STREAMING-AWS4-HMAC-SHA256-PAYLOAD".into()));
    let credential = Credential {
        access_key: "AKIDEXAMPLE".into(),
        date: "20150830".into(),
        region: "us-east-1".into(),
        service: "s3".into(),
    };
    let auth = authorization(&owned.request(), &credential, SECRET, &["host", "x-amz-content-sha256", "x-amz-date"]);
    owned.headers.push(("authorization".into(), auth));
    let req = owned.request();
    let signed = read(&req).unwrap().unwrap();
    let s3 = Rules { service: "s3", max_skew_secs: 900, s3: true };
    let verified = Verifier::new().verify(&req, signed.clone(), SECRET, &s3, SUITE_NOW).unwrap();
    assert_eq!(verified.payload, Payload::Streaming("STREAMING-AWS4-HMAC-SHA256-PAYLOAD".into()));
    assert_eq!(verified.seed_signature, signed.signature);
    assert_eq!(verified.signing_key, derive_key(SECRET, "20150830", "us-east-1", "s3"));
}

#[test]
fn signer_and_verifier_agree() {
    let mut owned = Owned::parse(
        "POST / HTTP/1.1\nHost:localhost:4566\nX-Amz-Date:20240101T000000Z\nX-Amz-Target:AmazonSQS.ListQueues\n\n{}",
    );
    let credential = Credential {
        access_key: "test".into(),
        date: "20240101".into(),
        region: "us-east-1".into(),
        service: "sqs".into(),
    };
    let auth = authorization(&owned.request(), &credential, "test", &["host", "x-amz-date", "x-amz-target"]);
    owned.headers.push(("authorization".into(), auth));
    let req = owned.request();
    let signed = read(&req).unwrap().unwrap();
    let sqs = Rules { service: "sqs", max_skew_secs: 900, s3: false };
    let now = parse_amz_date("20240101T000100Z").unwrap();
    assert!(Verifier::new().verify(&req, signed, "test", &sqs, now).is_ok());
}
