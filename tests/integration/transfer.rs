//! Tests: transfer.
