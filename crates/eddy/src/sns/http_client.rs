//! The HTTP client SNS delivers HTTP subscriptions with: one pooled hyper
//! client, a 15-second timeout per attempt (AWS's delivery timeout).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;

use eddy_core::sns::HttpSender;

const TIMEOUT: Duration = Duration::from_secs(15);

pub struct HyperSender {
    client: Client<HttpConnector, Full<Bytes>>,
}

impl HyperSender {
    pub fn new() -> HyperSender {
        HyperSender { client: Client::builder(TokioExecutor::new()).build_http() }
    }
}

impl HttpSender for HyperSender {
    fn post(
        &self,
        url: String,
        headers: Vec<(&'static str, String)>,
        body: String,
    ) -> Pin<Box<dyn Future<Output = Result<u16, String>> + Send>> {
        let client = self.client.clone();
        Box::pin(async move {
            if url.starts_with("https://") {
                return Err("https endpoints are not supported by this eddy build (no TLS client); use http".into());
            }
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
