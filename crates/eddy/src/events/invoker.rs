//! The HTTP client of API destinations: one pooled hyper client over rustls
//! (the system's root certificates), and AWS's 5-second limit on every
//! invocation (EventBridge's quota for API destinations), connecting
//! included.

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;

use eddy_core::events::{HttpCall, HttpInvoker, HttpReply};

const TIMEOUT: Duration = Duration::from_secs(5);
/// The most of a response body kept (OAuth token answers are small).
const MAX_REPLY: usize = 64 * 1024;

type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Built on first use: reading the system's roots costs start-up time.
#[derive(Default)]
pub struct HyperInvoker {
    client: OnceLock<HttpsClient>,
}

impl HyperInvoker {
    fn client(&self) -> HttpsClient {
        self.client
            .get_or_init(|| {
                let mut http = HttpConnector::new();
                http.enforce_http(false);
                http.set_connect_timeout(Some(TIMEOUT));
                let connector = crate::sns::http_client::tls_with_system_roots()
                    .https_or_http()
                    .enable_http1()
                    .wrap_connector(http);
                Client::builder(TokioExecutor::new()).build(connector)
            })
            .clone()
    }
}

impl HttpInvoker for HyperInvoker {
    fn invoke(&self, call: HttpCall) -> Pin<Box<dyn Future<Output = Result<HttpReply, String>> + Send>> {
        let client = self.client();
        Box::pin(async move {
            let mut req = http::Request::builder().method(call.method.as_str()).uri(&call.url);
            for (k, v) in &call.headers {
                req = req.header(k.as_str(), v.as_str());
            }
            let url = call.url.clone();
            let req =
                req.body(Full::new(Bytes::from(call.body))).map_err(|e| format!("invalid request to {url}: {e}"))?;
            let exchange = async {
                let resp = client.request(req).await.map_err(|e| format!("could not reach {url}: {e}"))?;
                let status = resp.status().as_u16();
                let body = http_body_util::Limited::new(resp.into_body(), MAX_REPLY)
                    .collect()
                    .await
                    .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
                    .unwrap_or_default();
                Ok(HttpReply { status, body })
            };
            match tokio::time::timeout(TIMEOUT, exchange).await {
                Ok(result) => result,
                Err(_) => Err(format!("no response from {url} within {} s", TIMEOUT.as_secs())),
            }
        })
    }
}
