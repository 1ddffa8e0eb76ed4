//! Tests: info.
