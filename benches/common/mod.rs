//! Helpers for the `vs_stock` benchmark: deterministic test data and tree
//! comparison ([`data`]), the cost of only walking a tree ([`floor`]),
//! and running a stock rsync client against either server with timing
//! and CPU accounting ([`run`]).

pub mod data;
pub mod floor;
pub mod run;

/// Errors in the harness itself (not in a measured transfer).
pub type R<T> = Result<T, Box<dyn std::error::Error>>;

/// A bench's data directory, removed on drop unless `BENCH_KEEP` is set.
pub struct TmpDir(pub std::path::PathBuf);

impl Drop for TmpDir {
    fn drop(&mut self) {
        if std::env::var_os("BENCH_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        } else {
            eprintln!("kept {}", self.0.display());
        }
    }
}
