//! The metrics endpoint: `GET /metrics` over HTTP/1.1 (hyper) on `metrics_listen`. Scrapes
//! are few and small: a handful of connections at once, each given a few seconds.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::state::ServerContext;

/// Scrape connections served at once; more wait in the kernel's backlog.
const MAX_SCRAPERS: usize = 8;
/// How long one scrape connection may last.
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(10);

/// Listens on `addr` and serves the metrics of `ctx` from a task of its own; returns the
/// address it listens on.
pub async fn start(ctx: Arc<ServerContext>, addr: SocketAddr) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    if !local.ip().is_loopback() {
        tracing::warn!(%local, "the metrics endpoint has no authentication and listens beyond loopback");
    }
    tokio::spawn(serve(ctx, listener));
    Ok(local)
}

async fn serve(ctx: Arc<ServerContext>, listener: TcpListener) {
    let slots = Arc::new(Semaphore::new(MAX_SCRAPERS));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::debug!(error = %e, "metrics accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let ctx = ctx.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let ctx = ctx.clone();
                async move { Ok::<_, Infallible>(answer(&ctx, &req)) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .keep_alive(false)
                .serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(SCRAPE_TIMEOUT, conn).await;
            drop(permit);
        });
    }
}

/// The answer to one HTTP request: the metrics for `GET /metrics`, 404 or 405 otherwise.
fn answer(ctx: &Arc<ServerContext>, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let (status, content_type, body) = match (req.method(), req.uri().path()) {
        (&Method::GET, "/metrics") => (
            StatusCode::OK,
            super::exposition::CONTENT_TYPE,
            super::exposition::render(ctx),
        ),
        (&Method::GET, _) => (StatusCode::NOT_FOUND, "text/plain", "not found\n".into()),
        _ => (
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "only GET\n".into(),
        ),
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    if let Ok(v) = hyper::header::HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    resp
}
