# Performance properties that a unit test pins down.
MUTANTS = [
# The sender's reads land on a 64-byte boundary after each refill (a
# misaligned destination makes the kernel's copy three times slower).
("iobuf-align", "Performance", [
  ("src/delta/search.rs", "Some(iobuf::lead_for(kept))", "Some(0 * iobuf::lead_for(kept))"),
], ["lib:delta::search_tests::output_per_call_is_bounded"], "fail"),
]
