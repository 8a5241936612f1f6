//! The HTTP client SNS delivers HTTP/S subscriptions with: one pooled hyper
//! client over rustls (the system's root certificates, as AWS only delivers
//! to endpoints with a trusted certificate), a 15-second timeout per attempt
//! (AWS's delivery timeout).

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;

use eddy_core::sns::HttpSender;

const TIMEOUT: Duration = Duration::from_secs(15);

/// Built on the first delivery: reading the system's root certificates
/// would otherwise add milliseconds and megabytes to every start-up.
pub struct HyperSender {
    client: OnceLock<Client<HttpsConnector<HttpConnector>, Full<Bytes>>>,
}

impl HyperSender {
    pub fn new() -> HyperSender {
        HyperSender { client: OnceLock::new() }
    }

    fn client(&self) -> Client<HttpsConnector<HttpConnector>, Full<Bytes>> {
        self.client.get_or_init(build_client).clone()
    }
}

fn build_client() -> Client<HttpsConnector<HttpConnector>, Full<Bytes>> {
    {
        let builder = match hyper_rustls::HttpsConnectorBuilder::new().with_native_roots() {
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
        };
        let connector = builder.https_or_http().enable_http1().build();
        Client::builder(TokioExecutor::new()).build(connector)
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
            let mut req = http::Request::post(&url);
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
