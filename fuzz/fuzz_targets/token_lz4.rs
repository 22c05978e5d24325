//! Fuzz target: `rrsync::fuzzing::token_lz4` (see src/fuzzing.rs for what it drives).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rrsync::fuzzing::token_lz4(data);
});
