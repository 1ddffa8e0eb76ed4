//! The command handlers: one module per family, each a set of methods on
//! the session. Parsing a line into a [`Command`](crate::protocol::Command)
//! is the protocol layer's job; whether a command is allowed now, and how
//! its reply goes out, the session's.

mod access;
mod files;
mod info;
mod ls_flags;
mod navigation;
mod pure_data;
mod security;
mod site_misc;
mod transfer;
