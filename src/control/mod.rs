//! The HTTP control API: a thin JSON layer over the same operations a Rust
//! test calls on [`Server`](crate::Server), for test suites in other
//! languages (the pytest plugin in `clients/python/` drives it).
//!
//! It runs on the server's runtime beside the FTP listener, on hyper (no
//! HTTP parsing of our own). Handlers translate a request into a `Core`
//! call and its errors into 4xx replies; the engine never knows the API
//! exists. Calls that change the server are recorded in the transcript as
//! `control` events, so a failing test shows what the test did and when.

mod routes;

use std::convert::Infallible;
use std::io;
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

use crate::server::Core;

/// The largest request body taken (a file for `PUT /files/..`).
const MAX_BODY: usize = 256 * 1024 * 1024;

pub(crate) type Reply = Response<Full<Bytes>>;

struct Api {
    core: Arc<Core>,
    token: Option<String>,
}

/// Starts serving the control API on `listener` (on the current runtime,
/// the server's); returns its base URL.
pub(crate) fn spawn(
    listener: std::net::TcpListener,
    token: Option<String>,
    core: Arc<Core>,
) -> io::Result<String> {
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let url = format!("http://{}", listener.local_addr()?);
    let mut stop = core.stopping();
    let api = Arc::new(Api { core, token });
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => Some(accepted),
                _ = stop.wait_for(|s| *s) => None,
            };
            let stream = match accepted {
                None => break,
                Some(Ok((stream, _))) => stream,
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "control API: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let api = api.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<Incoming>| {
                    let api = api.clone();
                    async move { Ok::<_, Infallible>(api.handle(req).await) }
                });
                if let Err(e) = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await
                {
                    tracing::debug!(error = %e, "control API connection");
                }
            });
        }
    });
    Ok(url)
}

impl Api {
    async fn handle(&self, req: Request<Incoming>) -> Reply {
        if let Some(token) = &self.token {
            let given = req
                .headers()
                .get(hyper::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "));
            if given != Some(token.as_str()) {
                tracing::warn!(path = %req.uri().path(), "control API: missing or wrong token");
                return routes::error(
                    401,
                    "missing or wrong bearer token (Authorization: Bearer TOKEN)",
                );
            }
        }
        let method = req.method().clone();
        let path = req.uri().path().to_string();
        let reply = routes::route(&self.core, req).await;
        let status = reply.status().as_u16();
        if status >= 400 {
            tracing::info!(%method, %path, status, "control API refused a request");
        } else {
            tracing::debug!(%method, %path, status, "control API");
        }
        reply
    }
}
