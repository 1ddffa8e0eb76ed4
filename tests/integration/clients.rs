//! Tests: clients.
