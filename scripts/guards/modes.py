# Mutants for the receiver's write modes (issue 9): each removes one check
# of fs::Writer (src/fs/guard.rs), the only holder of the write-side
# syscalls. `Some(&())` stands for "a permit", so the writer acts on a name
# the session did not create as if it held one. The tests are the stock-
# client batteries of protocol-tests/push/invariants.rs; the owner case
# needs root (the suite's CI runs as root).
P = "push::invariants::"
MUTANTS = [
("modes-unlink", "-no-del", [
  ("src/fs/guard.rs", "let (dir, name, n) = self.allowed(path, delete, Need::Name)?;\n        // The name may be a symlink", "let (dir, name, n) = self.allowed(path, Some(&()), Need::Name)?;\n        // The name may be a symlink"),
 ], [P+"no_delete_keeps_every_existing_name"], "fail"),
# The partial-dir file stays (unlink is guarded), so its directory is never
# empty: removing the rmdir check alone is held by the other layer.
("modes-rmdir", "-no-del", [
  ("src/fs/guard.rs", "let (dir, name, n) = self.allowed(path, delete, Need::Name)?;\n        self.root.forget_parent();\n        write::rmdir(", "let (dir, name, n) = self.allowed(path, Some(&()), Need::Name)?;\n        self.root.forget_parent();\n        write::rmdir("),
 ], [P+"no_delete_keeps_every_existing_name"], "pass"),
("modes-chmod", "-no-overwrite", [
  ("src/fs/guard.rs", "let (dir, name, _) = self.allowed_in_place(path, overwrite)?;\n        write::chmod(", "let (dir, name, _) = self.allowed(path, Some(&()), Need::Object)?;\n        write::chmod("),
 ], [P+"no_overwrite_changes_no_existing_entry"], "fail"),
("modes-chown", "-no-overwrite", [
  ("src/fs/guard.rs", "let (dir, name, _) = self.allowed_in_place(path, overwrite)?;\n        write::chown(", "let (dir, name, _) = self.allowed(path, Some(&()), Need::Object)?;\n        write::chown("),
 ], [P+"no_overwrite_changes_no_existing_entry"], "fail"),
("modes-times", "-no-overwrite", [
  ("src/fs/guard.rs", "let (dir, name, _) = self.allowed_in_place(path, overwrite)?;\n        write::set_times(", "let (dir, name, _) = self.allowed(path, Some(&()), Need::Object)?;\n        write::set_times("),
 ], [P+"no_overwrite_changes_no_existing_entry"], "fail"),
# The ledger: without it the session cannot even place its own temporary
# files, so honest pushes under every mode stop delivering.
("modes-ledger", "Ledger", [
  ("src/fs/guard.rs", ".is_some_and(|m| m.new_object || need == Need::Name)", ".is_some_and(|m| false && (m.new_object || need == Need::Name))"),
 ], [P+"no_delete_keeps_every_existing_name"], "fail"),
]
# ACLs and extended attributes (issue 11) change an existing entry only
# through Writer::open_meta and Writer::meta_of, behind the same check.
MUTANTS += [
("modes-xattr", "-no-overwrite", [
  ("src/fs/guard.rs", "let (dir, name, _) = self.allowed_in_place(path, overwrite)?;\n        let opened = super::xattr::open_meta_in(", "let (dir, name, _) = self.allowed(path, Some(&()), Need::Object)?;\n        let opened = super::xattr::open_meta_in("),
 ], ["meta::no_overwrite_keeps_existing_attributes"], "fail"),
# An early directory (incremental recursion) stops at --ignore-existing,
# which -no-overwrite forces, before it makes room over a file.
("modes-early-dir", "-no-overwrite", [
  ("src/role/receiver/generator/mod.rs", "        if let (Some(m), true) = (&cur, self.cfg.opts.ignore_existing && !redo) {", "        if let (Some(m), true) = (&cur, false) {"),
 ], ["push::options::no_overwrite_keeps_a_file_where_a_directory_comes"], "fail"),
# One rename where nothing is to be learned from a refused one: only
# with both permits. Under -no-del a replaced name must stay someone
# else's, so the rename there still refuses to replace first.
("modes-one-rename", "-no-del", [
  ("src/fs/guard.rs", "let replace = overwrite.is_some() && !self.remember_final;", "let replace = overwrite.is_some();"),
 ], ["lib:fs::tests::a_replaced_name_stays_someone_elses_without_the_delete_permit"], "fail"),
# The directory the ledger last looked at is remembered; a name in
# another directory (or in the root) is still told apart from it.
("ledger-dir-id", "Ledger", [
  ("src/fs/guard.rs", "if let Some((_, dev, ino)) = last.as_ref().filter(same) {", "if let Some((_, dev, ino)) = last.as_ref() {"),
 ], ["lib:fs::tests::the_ledger_tells_directories_apart"], "fail"),
]
