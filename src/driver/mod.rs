//! Driver (in progress).

/// Entry point used by the binary.
pub fn main_entry() -> i32 {
    0
}
