//! Helpers for the `vs_stock` benchmark: deterministic test data and tree
//! comparison ([`data`]), the cost of only walking a tree ([`floor`]),
//! and running a stock rsync client against either server with timing
//! and CPU accounting ([`run`]).

pub mod data;
pub mod floor;
pub mod run;

/// Errors in the harness itself (not in a measured transfer).
pub type R<T> = Result<T, Box<dyn std::error::Error>>;
