//! A connector that opens at most `HTTP_SLOTS_PER_ENDPOINT` sockets to one
//! host:port at a time. The core's delivery slots bound requests in flight,
//! but when an attempt times out its slot is free at once while hyper closes
//! the abandoned connection a moment later, on its own task: without this
//! cap the next delivery's socket can open first, and a hung endpoint would
//! briefly hold one socket more than its slots. Each socket carries a permit
//! that is released only after the socket is closed.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};

use http::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use eddy_core::sns::HTTP_SLOTS_PER_ENDPOINT;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Clone)]
pub struct CappedConnector {
    inner: HttpConnector,
    /// One semaphore per host:port, alive while any of its sockets is open.
    gates: Arc<Mutex<HashMap<String, Weak<Semaphore>>>>,
}

impl CappedConnector {
    pub fn new(inner: HttpConnector) -> CappedConnector {
        CappedConnector { inner, gates: Arc::default() }
    }

    fn gate(&self, uri: &Uri) -> Arc<Semaphore> {
        let port = uri.port_u16().unwrap_or(if uri.scheme_str() == Some("https") { 443 } else { 80 });
        let key = format!("{}:{port}", uri.host().unwrap_or_default());
        let mut gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(gate) = gates.get(&key).and_then(Weak::upgrade) {
            return gate;
        }
        // Endpoints with no open socket left drop out here, so the map stays
        // as small as the set of endpoints with connections.
        gates.retain(|_, g| g.strong_count() > 0);
        let gate = Arc::new(Semaphore::new(HTTP_SLOTS_PER_ENDPOINT));
        gates.insert(key, Arc::downgrade(&gate));
        gate
    }
}

impl tower_service::Service<Uri> for CappedConnector {
    type Response = CappedStream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<CappedStream, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let gate = self.gate(&uri);
        let mut inner = self.inner.clone();
        Box::pin(async move {
            let permit = gate.acquire_owned().await.expect("connector semaphores are never closed");
            std::future::poll_fn(|cx| inner.poll_ready(cx)).await?;
            let io = inner.call(uri).await?;
            Ok(CappedStream { io, _permit: permit })
        })
    }
}

/// A socket and its permit. Fields drop in order: the socket closes before
/// the permit lets the next one open.
pub struct CappedStream {
    io: TokioIo<TcpStream>,
    _permit: OwnedSemaphorePermit,
}

impl Connection for CappedStream {
    fn connected(&self) -> Connected {
        self.io.connected()
    }
}

impl hyper::rt::Read for CappedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for CappedStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }
}
