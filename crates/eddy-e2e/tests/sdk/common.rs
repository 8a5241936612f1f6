//! The harness: one eddy process per test (free port, temp data dir), an SDK
//! client pointed at it, and the MD5 digests SQS documents.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_sdk_sqs::config::{Credentials, Region};
use aws_sdk_sqs::types::{Message, MessageAttributeValue, MessageSystemAttributeName, QueueAttributeName};
use aws_sdk_sqs::Client;
use md5::{Digest, Md5};

/// How long a fresh eddy gets to answer its health check.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// The eddy binary under test: `$EDDY_BIN`, or else `cargo build -p eddy`
/// (once per test run) into the target directory this test binary lives in.
fn eddy_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| match std::env::var_os("EDDY_BIN") {
        Some(bin) => {
            let bin = PathBuf::from(bin);
            assert!(bin.is_file(), "EDDY_BIN={} is not a file", bin.display());
            bin
        }
        None => build_eddy(),
    })
}

fn build_eddy() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    // This binary is <target>/<profile dir>/deps/sdk-<hash>.
    let exe = std::env::current_exe().expect("path of the test binary");
    let profile_dir = exe.parent().and_then(Path::parent).expect("test binary inside <target>/<profile>/deps");
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev",
        Some(other) => other,
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(&workspace)
        .args(["build", "--quiet", "-p", "eddy", "--bin", "eddy", "--profile", profile])
        .stdin(Stdio::null())
        .output()
        .expect("run `cargo build -p eddy`");
    assert!(
        out.status.success(),
        "`cargo build -p eddy --bin eddy` failed (set EDDY_BIN to use a prebuilt eddy):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bin = profile_dir.join(format!("eddy{}", std::env::consts::EXE_SUFFIX));
    assert!(bin.is_file(), "{} missing after `cargo build -p eddy`; set EDDY_BIN to an eddy binary", bin.display());
    bin
}

/// A running eddy, killed (and its data dir removed) on drop.
pub struct Eddy {
    child: Child,
    pub endpoint: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Eddy {
    pub fn start() -> Eddy {
        let bin = eddy_bin();
        let dir = tempfile::Builder::new().prefix("eddy-e2e-").tempdir().expect("temp dir");
        let log = dir.path().join("eddy.log");
        // A port the OS handed out can be taken again before eddy binds it:
        // when eddy exits at start, try another.
        for _ in 0..3 {
            let addr = free_addr();
            let out = File::create(&log).expect("log file");
            let err = out.try_clone().expect("log file");
            let mut child = Command::new(bin)
                .arg("serve")
                .arg("--listen")
                .arg(addr.to_string())
                .arg("--data-dir")
                .arg(dir.path().join("data"))
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
            if wait_healthy(&mut child, addr, &log) {
                return Eddy { child, endpoint: format!("http://{addr}"), log, _dir: dir };
            }
        }
        panic!("eddy exited at start three times; log:\n{}", std::fs::read_to_string(&log).unwrap_or_default());
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// An SDK client for this eddy: region us-east-1, static credentials
    /// test/test, plain-HTTP connector.
    pub async fn client(&self) -> Client {
        Client::new(&self.sdk_config().await)
    }

    /// An SNS client configured like [`Eddy::client`].
    pub async fn sns_client(&self) -> aws_sdk_sns::Client {
        aws_sdk_sns::Client::new(&self.sdk_config().await)
    }

    /// A Kinesis client configured like [`Eddy::client`].
    pub async fn kinesis_client(&self) -> aws_sdk_kinesis::Client {
        aws_sdk_kinesis::Client::new(&self.sdk_config().await)
    }

    /// An EventBridge client configured like [`Eddy::client`].
    pub async fn events_client(&self) -> aws_sdk_eventbridge::Client {
        aws_sdk_eventbridge::Client::new(&self.sdk_config().await)
    }

    /// An EventBridge Scheduler client configured like [`Eddy::client`].
    pub async fn scheduler_client(&self) -> aws_sdk_scheduler::Client {
        aws_sdk_scheduler::Client::new(&self.sdk_config().await)
    }

    /// An EventBridge Pipes client configured like [`Eddy::client`].
    pub async fn pipes_client(&self) -> aws_sdk_pipes::Client {
        aws_sdk_pipes::Client::new(&self.sdk_config().await)
    }

    /// An EventBridge schema registry client configured like [`Eddy::client`].
    pub async fn schemas_client(&self) -> aws_sdk_schemas::Client {
        aws_sdk_schemas::Client::new(&self.sdk_config().await)
    }

    async fn sdk_config(&self) -> aws_config::SdkConfig {
        // The SDK is built without TLS; eddy speaks plain HTTP.
        let http = aws_smithy_http_client::Builder::new().build_http();
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "eddy-e2e"))
            .endpoint_url(&self.endpoint)
            .http_client(http)
            .load()
            .await
    }
}

impl Drop for Eddy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = self.log_text();
            let tail: Vec<&str> = log.lines().rev().take(60).collect();
            eprintln!("---- eddy log (last {} lines) ----", tail.len());
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

/// True once eddy answers its health check; false if it exited first.
fn wait_healthy(child: &mut Child, addr: SocketAddr, log: &Path) -> bool {
    let deadline = Instant::now() + START_TIMEOUT;
    while Instant::now() < deadline {
        if health_ok(addr) {
            return true;
        }
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("eddy not healthy after {START_TIMEOUT:?}; log:\n{}", std::fs::read_to_string(log).unwrap_or_default());
}

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port")
}

fn health_ok(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let req = format!("GET /_eddy/health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let mut resp = String::new();
    s.write_all(req.as_bytes()).is_ok()
        && s.read_to_string(&mut resp).is_ok()
        && (resp.starts_with("HTTP/1.1 200") || resp.starts_with("HTTP/1.0 200"))
}

// ---------------------------------------------------------------- queues

/// Creates a standard queue and returns its URL. Each test has an eddy of
/// its own, so plain names never collide.
pub async fn create_queue(sqs: &Client, name: &str) -> String {
    let out = sqs.create_queue().queue_name(name).send().await.expect("CreateQueue");
    out.queue_url().expect("QueueUrl").to_string()
}

pub async fn create_fifo_queue(sqs: &Client, name: &str) -> String {
    let out = sqs
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .expect("CreateQueue (FIFO)");
    out.queue_url().expect("QueueUrl").to_string()
}

pub async fn queue_attribute(sqs: &Client, url: &str, name: QueueAttributeName) -> String {
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(name.clone())
        .send()
        .await
        .expect("GetQueueAttributes");
    out.attributes().and_then(|a| a.get(&name)).unwrap_or_else(|| panic!("attribute {name} missing")).clone()
}

pub async fn queue_arn(sqs: &Client, url: &str) -> String {
    queue_attribute(sqs, url, QueueAttributeName::QueueArn).await
}

/// Receives until `n` messages arrived (deleting none), polling at most
/// `within`: standard queues may answer a receive with a subset.
pub async fn receive_n(sqs: &Client, url: &str, n: usize, within: Duration) -> Vec<Message> {
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    while got.len() < n && Instant::now() < deadline {
        let out = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .expect("ReceiveMessage");
        got.extend(out.messages.unwrap_or_default());
    }
    got
}

/// One short-poll receive, to check that nothing is visible right now.
pub async fn receive_now(sqs: &Client, url: &str) -> Vec<Message> {
    sqs.receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .wait_time_seconds(0)
        .send()
        .await
        .expect("ReceiveMessage")
        .messages
        .unwrap_or_default()
}

// ---------------------------------------------------------------- MD5

pub fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}

/// A message attribute's value as SQS digests it.
pub enum AttrValue<'a> {
    /// `String` and `Number` types (transport type 1).
    Str(&'a str),
    /// `Binary` types (transport type 2), the raw bytes.
    Bin(&'a [u8]),
}

/// `MD5OfMessageAttributes` as the SQS developer guide defines it: for each
/// attribute in name order, length-prefixed (u32 big-endian) name, data type
/// and value, with a transport byte (1 string, 2 binary) before the value.
pub fn md5_of_attributes<'a>(attrs: impl IntoIterator<Item = (&'a str, &'a str, AttrValue<'a>)>) -> String {
    fn put(buf: &mut Vec<u8>, bytes: &[u8]) {
        buf.extend_from_slice(&u32::try_from(bytes.len()).expect("attribute too long").to_be_bytes());
        buf.extend_from_slice(bytes);
    }
    let mut attrs: Vec<_> = attrs.into_iter().collect();
    attrs.sort_by(|a, b| a.0.cmp(b.0));
    let mut buf = Vec::new();
    for (name, data_type, value) in attrs {
        put(&mut buf, name.as_bytes());
        put(&mut buf, data_type.as_bytes());
        match value {
            AttrValue::Str(s) => {
                buf.push(1);
                put(&mut buf, s.as_bytes());
            }
            AttrValue::Bin(b) => {
                buf.push(2);
                put(&mut buf, b);
            }
        }
    }
    md5_hex(&buf)
}

/// [`md5_of_attributes`] of the SDK's attribute map (single values only).
pub fn md5_of_attribute_map(attrs: &HashMap<String, MessageAttributeValue>) -> String {
    md5_of_attributes(attrs.iter().map(|(name, v)| {
        let value = match (v.string_value(), v.binary_value()) {
            (Some(s), _) => AttrValue::Str(s),
            (None, Some(b)) => AttrValue::Bin(b.as_ref()),
            (None, None) => panic!("attribute {name} has no single value"),
        };
        (name.as_str(), v.data_type(), value)
    }))
}

#[test]
fn md5_of_attributes_matches_the_documented_digest() {
    assert_eq!(md5_of_attributes([("color", "String", AttrValue::Str("blue"))]), "da1b33cc3cbfe8b1630921e78e6b9880");
    assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
}
