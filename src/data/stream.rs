//! What a connection runs over.

use tokio::io::{AsyncRead, AsyncWrite};

/// Anything a control or data connection can run over (TCP, or TLS on TCP).
pub(crate) trait Stream: AsyncRead + AsyncWrite + Unpin + Send + Sync + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync + 'static> Stream for T {}
