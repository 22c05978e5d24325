//! Top-level errors (in progress)
