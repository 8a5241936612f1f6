//! The HTTP client SNS delivers HTTP/S subscriptions with: one pooled hyper
//! client over rustls (the system's root certificates, as AWS only delivers
//! to endpoints with a trusted certificate), a 15-second timeout per attempt
//! and a 5-second connect timeout. The core allows at most
//! `HTTP_SLOTS_PER_ENDPOINT` requests in flight per host:port, and the pool
//! keeps no more idle connections than that; the connector opens no more
//! sockets than that either (see `capped_connector`), so one endpoint never
//! holds more sockets than its slots.

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;

use super::capped_connector::CappedConnector;
use eddy_core::sns::{HttpSender, HTTP_SLOTS_PER_ENDPOINT};

/// An endpoint must answer within 15 seconds, or the attempt failed and is
/// retried per the DeliveryPolicy. AWS's developer guide gives no figure
/// that eddy could find in its reference material; 15 s is the figure SNS
/// endpoint libraries document for SNS ("Amazon SNS expects a webhook to
/// return a response within 15 seconds", deadmanssnitch/snshttp README) and
/// what eddy used before.
const TIMEOUT: Duration = Duration::from_secs(15);
/// Connecting is part of the 15 s; an endpoint that does not accept within
/// 5 s fails fast instead of holding a slot for the whole timeout. eddy's
/// figure: AWS documents none.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Idle pooled connections are closed after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Built on the first delivery: reading the system's root certificates
/// would otherwise add milliseconds and megabytes to every start-up.
pub struct HyperSender {
    client: OnceLock<Client<HttpsConnector<CappedConnector>, Full<Bytes>>>,
}

impl HyperSender {
    pub fn new() -> HyperSender {
        HyperSender { client: OnceLock::new() }
    }

    fn client(&self) -> Client<HttpsConnector<CappedConnector>, Full<Bytes>> {
        self.client.get_or_init(build_client).clone()
    }
}

/// TLS that trusts the system's root certificates (none when the system has
/// none: every https request then fails verification, and says so).
pub(crate) fn tls_with_system_roots() -> hyper_rustls::HttpsConnectorBuilder<hyper_rustls::builderstates::WantsSchemes>
{
    match hyper_rustls::HttpsConnectorBuilder::new().with_native_roots() {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "no system root certificates: https deliveries will fail verification");
            hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(
                rustls::ClientConfig::builder_with_provider(rustls::crypto::ring::default_provider().into())
                    .with_safe_default_protocol_versions()
                    .expect("ring supports the default protocol versions")
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth(),
            )
        }
    }
}

fn build_client() -> Client<HttpsConnector<CappedConnector>, Full<Bytes>> {
    {
        let builder = tls_with_system_roots();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let connector = builder.https_or_http().enable_http1().wrap_connector(CappedConnector::new(http));
        Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(HTTP_SLOTS_PER_ENDPOINT)
            .pool_idle_timeout(IDLE_TIMEOUT)
            .build(connector)
    }
}

impl HttpSender for HyperSender {
    fn post(
        &self,
        url: String,
        headers: Vec<(&'static str, String)>,
        body: String,
    ) -> Pin<Box<dyn Future<Output = Result<u16, String>> + Send>> {
        let client = self.client();
        Box::pin(async move {
            // The agent's headers: every request AWS's SNS sends carries them (recorded);
            // the connection is kept for the endpoint's next delivery.
            let mut req = http::Request::post(&url)
                .header("user-agent", "Amazon Simple Notification Service Agent")
                .header("accept-encoding", "gzip,deflate")
                .header("connection", "Keep-Alive");
            for (k, v) in headers {
                req = req.header(k, v);
            }
            let req = req.body(Full::new(Bytes::from(body))).map_err(|e| format!("invalid request to {url}: {e}"))?;
            match tokio::time::timeout(TIMEOUT, client.request(req)).await {
                Ok(Ok(resp)) => Ok(resp.status().as_u16()),
                Ok(Err(e)) => Err(format!("could not reach {url}: {e}")),
                Err(_) => Err(format!("no response from {url} within {} s", TIMEOUT.as_secs())),
            }
        })
    }
}
