# serve's privilege separation (issue 9): each session in its own process,
# the listener holding nothing of a root, slots freed when a session ends,
# and --user-keys sessions running as the login's account.
P = "ssh::privsep::"
MUTANTS = [
("privsep-drop", "Privsep", [
  ("src/ssh/child.rs", "    if let Some(ids) = &ids {\n        if let Err(e) = drop_to(ids) {", "    if let Some(ids) = None::<&Ids> {\n        if let Err(e) = drop_to(ids) {"),
 ], [P+"serve_user_keys_drop_to_the_account"], "fail"),
("privsep-initgroups", "Privsep", [
  ("src/ssh/child.rs", "    set_thread_groups(&groups)?;", "    set_thread_groups(&[gid])?;"),
 ], [P+"serve_user_keys_drop_to_the_account"], "fail"),
("privsep-root-login", "Privsep", [
  ("src/ssh/handler.rs", "    if acc.uid == 0 && !(permit_root && user == \"root\") {", "    if false {"),
 ], [P+"serve_user_keys_drop_to_the_account"], "fail"),
("privsep-strict-modes", "Privsep", [
  ("src/ssh/account.rs", "    if st.st_mode & 0o022 != 0 {", "    if false {"),
 ], [P+"serve_user_keys_drop_to_the_account"], "fail"),
("privsep-cloexec", "Privsep", [
  ("src/ssh/bridge.rs", "    let (ours, theirs) = std::os::unix::net::UnixStream::pair()?;\n", "    let (ours, theirs) = std::os::unix::net::UnixStream::pair()?;\n    rustix::io::fcntl_setfd(&ours, rustix::io::FdFlags::empty())?;\n"),
 ], [P+"serve_sessions_run_in_their_own_process"], "fail"),
("privsep-listener-root", "Privsep", [
  ("src/ssh/handler.rs", "        self.flags = Some(entry.flags);\n", "        std::mem::forget(crate::fs::Root::open(&entry.flags.root));\n        self.flags = Some(entry.flags);\n"),
 ], [P+"serve_sessions_run_in_their_own_process"], "fail"),
("privsep-report", "Privsep", [
  ("src/ssh/child.rs", "    report(&encode(&served, landlock));", "    let _ = landlock;"),
 ], [P+"serve_sessions_run_in_their_own_process"], "fail"),
("privsep-slot", "Privsep", [
  ("src/ssh/handler.rs", "            drop(permit);\n            drop(log);", "            std::mem::forget(permit);\n            drop(log);"),
 ], [P+"serve_silent_sessions_release_their_slots"], "fail"),
]
