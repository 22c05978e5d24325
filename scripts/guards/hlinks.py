# Hard-link groups on push (-H), with and without incremental recursion:
# which member is transferred and which are linked to it must be stock's,
# as the itemized lines show. `A` is predefined.
H = ["push::hlinks::hard_link_members_match_stock"]
MUTANTS = [
# A missing member is transferred at once instead of waiting for the
# last member known.
("hlink-defer", "Hard links", [
  ("src/role/receiver/generator/links.rs", "        match self.file_body(ndx, e, path, cur, redo, !last)? {", "        match self.file_body(ndx, e, path, cur, redo, false)? {"),
], H, "fail"),
# The walk sees every list received, not only those stock's generator
# has read ahead (500 entries).
("hlink-lookahead", "Hard links", [
  ("src/role/receiver/generator/inc.rs", "            if (inc.eof && seen >= inc.segs.len()) || total >= LOOKAHEAD {", "            if inc.eof && seen >= inc.segs.len() {"),
], H, "fail"),
# Skipping the last member leaves the deferred ones missing.
("hlink-skip-revive", "Hard links", [
  ("src/role/receiver/generator/links.rs", "            self.revive.push_back(next);", "            let _ = next;"),
], H, "fail"),
# --ignore-existing comes after the member's turn: an existing member is
# replaced by a link.
("hlink-skip-before-turn", "Hard links", [
  ("src/role/receiver/generator/mod.rs", "        if let (Some(m), true) = (&cur, self.cfg.opts.ignore_existing && !redo) {", "        if let (Some(m), true) = (&cur, false) {"),
], H, "fail"),
]
