# Performance properties that a unit test pins down.
MUTANTS = [
# The sender's reads land on a 64-byte boundary after each refill (a
# misaligned destination makes the kernel's copy three times slower).
("iobuf-align", "Performance", [
  ("src/delta/search.rs", "let lead = iobuf::lead_for(kept);", "let lead = 0 * iobuf::lead_for(kept);"),
], ["lib:delta::search_tests::output_per_call_is_bounded"], "fail"),
]
# Output produced after the driver was idle leaves at 8 KiB, before the
# role goes on (the client's first file of a large pull comes sooner).
MUTANTS += [
("kick-first-bytes", "Performance", [
  ("src/role/link_buffers.rs", "        self.kick_armed && self.out.len() >= KICK_AT", "        false && self.kick_armed && self.out.len() >= KICK_AT"),
], ["lib:role::machine::tests::first_bytes_after_idle_leave_at_once"], "fail"),
("kick-resume-after-taken", "Performance", [
  ("src/role/machine.rs", "        self.link.kicked() && !self.link.has_output()", "        self.link.kicked()"),
], ["lib:role::machine::tests::first_bytes_after_idle_leave_at_once"], "fail"),
]
MUTANTS += [
("kick-input-or-room", "Performance", [
  ("src/role/link.rs", "            if ended || s.bytes_in != start || s.has_room() {", "            if ended || s.bytes_in != start || s.out.len() < WATERMARK {"),
], ["lib:role::machine::tests::input_or_room_pauses_for_the_first_bytes_too"], "fail"),
]
# A delta's few token bytes leave every MiB searched, so the client
# rebuilds the file alongside the search (the delta pull's wall time).
MUTANTS += [
("handover-call", "Performance", [
  ("src/role/sender/data.rs", "            link.hand_over().await;", "            // link.hand_over().await;"),
], [A + "inproc::a_delta_leaves_as_it_is_searched"], "fail"),
("handover-pause", "Performance", [
  ("src/role/link.rs", "            asked = true;\n            s.kicked = true;\n            Poll::Pending", "            asked = true;\n            Poll::Ready(())"),
], ["lib:role::machine::tests::handed_over_bytes_leave_before_the_role_goes_on"], "fail"),
]
# The sender lists a window of the tree ahead of the client, not all of
# it (a pull's memory stays flat in the tree's size).
MUTANTS += [
("inc-window", "Performance", [
  ("src/role/sender/inc.rs", "        while !self.eof && lists.lookahead() < at_least {", "        while !self.eof {"),
], [A + "sender_inc::sub_lists_stop_at_the_lookahead"], "fail"),
]
# MD4 and MD5 hash a matched block for its block sum and the file sum in
# one two-lane pass; the file lane starts at the pending literal.
MUTANTS += [
("md5-pair-literal", "Performance", [
  ("src/delta/matcher.rs", "let through = s.buf.get(s.lit..s.pos + len);", "let through = s.buf.get(s.pos..s.pos + len);"),
], ["lib:delta::tests::tokens_rebuild_target"], "fail"),
("md5-pair-lanes", "Performance", [
  ("src/checksum/md.rs", "                R::rounds(&mut s, &[ma, mb]);", "                R::rounds(&mut s, &[ma, ma]);"),
], ["lib:checksum::md_tests::pairs_match_single_lanes"], "fail"),
("spare-hash-restart", "Performance", [
  ("src/checksum/strong.rs", "                h.reset()", "                {}"),
], ["lib:delta::search_tests::reused_buffer_and_hash_change_nothing"], "fail"),
# The receiver skips its look at the file it replaces under -p; without
# -p it still needs the old file's mode.
("existing-mode-look", "Performance", [
  ("src/role/receiver/file.rs", "let existing = match cfg.opts.perms {", "let existing = match true {"),
], ["push::inc::inc_recurse_push_matches_stock"], "fail"),
# `-c` sums read into one aligned buffer, not a fresh allocation per file
# (which glibc places 16 bytes past a page: the kernel's copy slows).
("sum-buf-align", "Performance", [
  ("src/checksum/whole.rs", "Ok(mut buf) => sum_through(kind, src, len, &mut buf),", "Ok(_) => sum_through(kind, src, len, &mut vec![0u8; CHUNK as usize]),"),
], ["lib:checksum::whole_tests::reads_land_aligned"], "fail"),
]
