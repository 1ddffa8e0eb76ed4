//! Running a custom command (see `crate::custom`): the checks the engine
//! makes before the handler, and what happens when the handler misbehaves.

use std::any::Any;
use std::future::Future;
use std::io;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use std::net::IpAddr;

use super::Session;
use crate::custom::{CommandContext, Conn, ConnFuture, CustomCommand};
use crate::perm::Access;
use crate::protocol::Reply;
use crate::session_info::SessionInfo;
use crate::storage::{Storage, VirtualPath};

impl Session {
    /// Runs a custom command: 530 without the login it needs, 501 without
    /// the argument it needs, else its handler. An error the handler
    /// returns is its reply; a handler that panics or gives no reply gets
    /// 451 sent for it, and the session goes on.
    pub(crate) async fn run_custom(
        &mut self,
        command: Arc<CustomCommand>,
        arg: Option<String>,
    ) -> io::Result<()> {
        // As for any other command, RNTO must come right after RNFR.
        self.options.rename_from = None;
        if command.needs_login && !self.logged_in() {
            return self.reply(530, "Please login with USER and PASS").await;
        }
        if command.needs_arg && arg.is_none() {
            return self.reply(501, "Syntax error: argument required").await;
        }
        let mut cx = CommandContext::new(self, command.name.clone(), arg);
        let outcome = CatchUnwind(command.handler.handle(&mut cx)).await;
        let answered = cx.answered();
        let failure = match outcome {
            Ok(Ok(())) if answered => return Ok(()),
            Ok(Ok(())) => {
                tracing::warn!(command = %command.name, "custom command sent no reply");
                (
                    451,
                    "Local error in processing: the command sent no reply".to_string(),
                )
            }
            Ok(Err(e)) if answered => {
                // Its reply is out already: a second one would answer the
                // client's next command.
                tracing::warn!(command = %command.name, error = %e, "custom command failed after replying");
                return Ok(());
            }
            Ok(Err(e)) => (e.code(), e.text().to_string()),
            Err(panic) => {
                tracing::error!(
                    command = %command.name,
                    panic = panic_message(panic.as_ref()),
                    "custom command panicked"
                );
                if answered {
                    return Ok(());
                }
                (451, "Local error in processing".to_string())
            }
        };
        self.reply(failure.0, failure.1).await
    }
}

/// What a custom command's context asks of its session.
impl Conn for Session {
    fn user(&self) -> Option<&str> {
        self.account().map(|a| a.name())
    }

    fn info(&self) -> SessionInfo {
        Session::info(self)
    }

    fn cwd(&self) -> &VirtualPath {
        &self.login.cwd
    }

    fn storage(&self) -> Arc<dyn Storage> {
        self.login.storage.clone()
    }

    fn access(&self, path: &VirtualPath) -> Access {
        self.rights(&Session::info(self), path).as_access()
    }

    fn control_tls(&self) -> bool {
        self.control.is_tls()
    }

    fn passive_port(&self) -> Option<u16> {
        match &self.options.data {
            crate::data::DataSetup::Passive(l) => l.local_addr().ok().map(|a| a.port()),
            _ => None,
        }
    }

    fn public_ip(&self) -> IpAddr {
        self.shared.config.public_ip.unwrap_or(self.local.ip())
    }

    fn send(&mut self, reply: Reply) -> ConnFuture<'_> {
        Box::pin(Session::send(self, reply))
    }

    fn close(&mut self) {
        self.closing = Some("custom command closed the connection");
    }

    fn send_data(&mut self, bytes: Vec<u8>) -> ConnFuture<'_> {
        let source: crate::storage::ReadStream = Box::new(std::io::Cursor::new(bytes));
        Box::pin(self.start_transfer(
            Reply::new(150, "Opening data connection"),
            super::Job::Send(super::Source::Stream(source), false),
            "Transfer complete".into(),
        ))
    }
}

/// Polls a future, turning a panic inside it into an `Err`.
struct CatchUnwind<F>(F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match std::panic::catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(not a string)")
}
