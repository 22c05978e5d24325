# Mutants for -snapshot and the push limits (issue 14). Each removes one
# guard; the tests are protocol-tests/push/snapshot.rs with stock clients.
S = "push::snapshot::"
O = "push::snapshot_ops::"
MUTANTS = [
# Copy before change: without it an attribute-only change (day 1's
# chmod) reaches the inode the previous snapshot shares.
("snapshot-unshare", "Snapshot", [
  ("src/fs/guard.rs", "if self.root.is_cow() {\n            super::cow::unshare(", "if false && self.root.is_cow() {\n            super::cow::unshare("),
 ], [S+"daily_mirror"], "fail"),
# The push's root is the new snapshot: given the served directory
# instead, a push to `.snapshots/NAME/` writes into an earlier one.
("snapshot-root", "Snapshot", [
  ("src/fs/snapshot.rs", "let root = top.sub_root(partial_path.as_bytes(), true)?;", "let root = top.sub_root(b\".\", true)?;"),
 ], [S+"earlier_snapshots_are_out_of_reach"], "fail"),
# Only a push that ended well is published.
("snapshot-publish-failed", "Snapshot", [
  ("src/session/roles.rs", "let result = result.and_then(|io_error| publish(started, &mut t).map(|()| io_error));", "let _ = publish(started, &mut t);"),
 ], [S+"killed_push_keeps_latest", O+"quotas"], "fail"),
("snapshot-refuse-inplace", "Snapshot", [
  ("src/policy/mod.rs", "    refuse_if(o.inplace, \"--inplace\")?;\n    refuse_if(o.append > 0, \"--append\")?;\n    refuse_if(o.remove_source_files", "    refuse_if(false, \"--inplace\")?;\n    refuse_if(o.append > 0, \"--append\")?;\n    refuse_if(o.remove_source_files"),
 ], [S+"earlier_snapshots_are_out_of_reach"], "fail"),
("snapshot-refuse-alt-dest", "Snapshot", [
  ("src/policy/mod.rs", "if let Some((kind, _)) = o.alt_dest.first() {", "if let Some((kind, _)) = o.alt_dest.first().filter(|_| false) {"),
 ], [S+"earlier_snapshots_are_out_of_reach"], "fail"),
("quota-bytes", "Limits", [
  ("src/role/receiver/file.rs", "q.charge_bytes(data.len() as u64)", "q.charge_bytes(0)"),
 ], [O+"quotas"], "fail"),
("quota-names", "Limits", [
  ("src/fs/quota.rs", "self.charge(&self.names, self.limits.files, 1)", "self.charge(&self.names, self.limits.files, 0)"),
 ], [O+"quotas"], "fail"),
]
# The audit line's counts: a new hard link (`hf` in -i) is an added entry.
MUTANTS += [
("audit-count-links", "Audit", [
  ("src/role/receiver/generator/links.rs", "            self.count(iflags);", "            let _ = iflags;"),
 ], [S+"daily_mirror"], "fail"),
]
