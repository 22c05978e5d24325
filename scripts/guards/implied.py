# Mutants for -R --no-implied-dirs on push (src/role/receiver/generator/
# implied.rs), checked by protocol-tests/push/implied.rs against stock.
T = ["push::implied::no_implied_dirs_push_matches_stock"]
MUTANTS = [
# A list whose entry has no listed parent (a client below protocol 30
# with --no-implied-dirs) must end the session as stock's does.
("implied-parent-listed", "File list: parents", [
  ("src/role/receiver/generator/implied.rs", "if dn == b\".\" || e.mode == 0 || self.list.is_inc() || self.list_dirs.contains(dn) {", "if true {"),
 ], T, "fail"),
# The content-less parents must be left as they are (modes, times, a
# symlink to a directory in their place).
("implied-leave", "Implied dirs", [
  ("src/role/receiver/generator/implied.rs", "self.cfg.opts.no_implied_dirs && e.flags.implied_dir", "false && e.flags.implied_dir"),
 ], T, "fail"),
# A symlink out of the root kept in a parent's place: without the
# confinement (openat2 and Landlock both) the file lands outside.
("implied-confine", "Confinement", [
  ("src/fs/mod.rs", "const RESOLVE: ResolveFlags = ResolveFlags::BENEATH.union(ResolveFlags::NO_MAGICLINKS);", "const RESOLVE: ResolveFlags = ResolveFlags::empty();"),
  ("src/driver/host.rs", "        crate::sandbox::restrict(&root, rights);", "        let _ = (&root, rights);"),
 ], T, "fail"),
]
