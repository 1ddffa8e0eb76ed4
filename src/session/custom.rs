//! Running a custom command (see `crate::custom`): the checks the engine
//! makes before the handler, and what happens when the handler misbehaves.

use std::any::Any;
use std::future::Future;
use std::io;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::Session;
use crate::custom::{CommandContext, CustomCommand};

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
        self.rename_from = None;
        if command.needs_login && !self.logged_in() {
            return self.reply(530, "Please login with USER and PASS").await;
        }
        if command.needs_arg && arg.is_none() {
            return self.reply(501, "Syntax error: argument required").await;
        }
        let mut cx = CommandContext {
            session: self,
            verb: command.name.clone(),
            arg,
            answered: false,
        };
        let outcome = CatchUnwind(command.handler.handle(&mut cx)).await;
        let answered = cx.answered;
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
