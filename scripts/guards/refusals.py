# Refusals and key set-up (issue 9, "Key set-up and refusals"): each guard
# removed makes its protocol test fail. `A` is predefined.
R = "push::refusals::"
MUTANTS = [
("refusal-raw-files-from", "Refusal state", [
  ("src/session/refuse.rs", "    if raw_files_from && hs.protocol < 31 {", "    if false && raw_files_from && hs.protocol < 31 {"),
], [R + "remote_files_from_refusals_are_readable"], "fail"),
# Unsupported means readable (issue 11): the refusal speaks the client's
# own handshake.
("refusal-client-handshake", "Refusal state", [
  ("src/session/refuse.rs", "super::start::refusal_handshake(link, &req).await", "super::start::refusal_handshake(link, &HandshakeRequest::default()).await"),
], ["push::readable::refusals_are_read_at_the_clients_protocol"], "fail"),
("refusal-daemon", "Refusal state", [
  ("src/session/request.rs", "    if listener == Listener::Daemon {", "    if false && listener == Listener::Daemon {"),
], [R + "daemon_client_over_ssh_reads_an_error_line"], "fail"),
("refusal-batch", "Refusal", [
  ("src/policy/mod.rs", "    refuse_if(o.only_write_batch.is_some(), \"--only-write-batch\")?;\n    refuse_if(o.batch.is_some(), o.batch.unwrap_or_default())?;", "    let _ = o.batch;"),
], [R + "batch_options_are_refused_up_front"], "fail"),
("refusal-spelling", "Refusal wording", [
  ("src/cli/options.rs", "            .map_or_else(|| canonical.to_string(), |(_, s)| s.clone())", "            .map_or_else(|| canonical.to_string(), |_| canonical.to_string())"),
], [R + "rrsync_wording_and_the_client_spelling"], "fail"),
("hint-under-sshd", "Server paths", [
  ("src/app.rs", "fn no_command_line(remote: bool) -> String {\n    if remote {", "fn no_command_line(remote: bool) -> String {\n    if false && remote {"),
], [R + "interactive_login_learns_nothing_about_the_server"], "fail"),
("strerror-exdev", "Server paths", [
  ("src/role/text.rs", "        Some(n) if n == rustix::io::Errno::XDEV.raw_os_error() => return ESCAPE_TEXT.into(),", "        Some(n) if false && n == rustix::io::Errno::XDEV.raw_os_error() => return ESCAPE_TEXT.into(),"),
], [R + "confinement_stop_is_said_in_words"], "fail"),
("merge-skip-wire", "Filter", [
  ("src/filter/wire.rs", "            Err(FilterError::UnsafeMergeName) => list.skipped += 1,", "            Err(FilterError::UnsafeMergeName) => return Err(FilterError::UnsafeMergeName),"),
], [A + "sender::merge_files_outside_the_root", R + "merge_file_outside_the_root_is_skipped_with_a_warning"], "fail"),
("authorize-control", "Key set-up", [
  ("src/authorize/mod.rs", "    path_text(\"DIR\", &dir)?;", "    let _ = path_text(\"DIR\", &dir);"),
  ("src/authorize/mod.rs", "    no_control(\"the key line\", line)?;", "    let _ = no_control(\"the key line\", line);"),
  ("src/authorize/mod.rs", "    if line.lines().count() != 1 {", "    if false && line.lines().count() != 1 {"),
], ["ssh::authorize_injection::authorize_refuses_control_characters"], "fail"),
# The client's --log-file (issue 9): refused where the key may not write,
# never followed through a symlink, and the walk's skipped merge rules.
("log-file-modes", "Refusal", [
  ("src/policy/mod.rs", "        o.log_file.is_some() && (flags.mode == Mode::ReadOnly || flags.no_overwrite),", "        false && o.log_file.is_some(),"),
], ["push::log_file::log_file_failures_and_refusals", "lib:policy::tests::log_file_where_rrsync_allows_it"], "fail"),
# One layer of three: O_NOFOLLOW and RESOLVE_BENEATH still stop the link.
("log-file-precheck", "Server paths", [
  ("src/fs/root.rs", "            Ok(m) if !m.is_file() => return Err(not_regular(m.file_type)),", "            Ok(_) if false => {}"),
], ["push::log_file::log_file_failures_and_refusals"], "pass"),
("walk-merge-warning", "Filter", [
  ("src/role/sender/mod.rs", "    if skipped > 0 {\n        link.warning(", "    if false && skipped > 0 {\n        link.warning("),
], [R + "merge_rule_skipped_during_the_walk_is_warned_about"], "fail"),
# --append (issue 11): -no-overwrite refuses it; under -wo an
# --append-verify header covers nothing, so no verdict on the server's
# prefix reaches the client.
("no-overwrite-append", "Refusal", [
  ("src/policy/mod.rs", "        refuse_if(o.append > 0, \"--append\")?;", "        let _ = o.append;"),
], ["push::modes::no_overwrite_keeps_existing_files"], "fail"),
("wo-append-verify", "Write-only", [
  ("src/role/receiver/basis.rs", "    if append == 2 && cfg.sums == BlockSums::Coarse {", "    if false && append == 2 && cfg.sums == BlockSums::Coarse {"),
], ["push::append::append_verify_push_matches_stock"], "fail"),
# --remove-source-files on a pull (issue 11): refused under -ro and
# -no-del; the permit alone still keeps the files there; a file changed
# since it was listed is kept.
("rsf-refusal", "Refusal", [
  ("src/policy/mod.rs", "        refuse_if(o.remove_source_files, \"--remove-source-files\")?;", "        let _ = o.remove_source_files;"),
], ["pull::remove_source::remove_source_files_is_refused_under_ro_and_no_del"], "fail"),
("rsf-permit-and-refusal", "Refusal", [
  ("src/policy/mod.rs", "        refuse_if(o.remove_source_files, \"--remove-source-files\")?;", "        let _ = o.remove_source_files;"),
  ("src/policy/mod.rs", "            may_remove: flags.mode != Mode::ReadOnly && !flags.no_del && !flags.snapshot,", "            may_remove: true,"),
], ["pull::remove_source::remove_source_files_is_refused_under_ro_and_no_del"], "fail"),
("rsf-still-the-same", "Remove source", [
  ("src/role/sender/remove.rs", "    same_type && (size, sec, nsec) == listed", "    let _ = (same_type, size, sec, nsec, listed);\n    true"),
], ["pull::remove_source::remove_source_files_keeps_a_changed_file", "lib:role::sender::remove::tests::a_changed_file_is_not_the_one_sent"], "fail"),
]
# -U below protocol 28 ends the session with its reason: the "same access
# time" bit does not fit protocol 27's one-byte flags (issue 11).
MUTANTS += [
("atimes-protocol-28", "Refusal", [
  ("src/session/roles.rs", "        (o.atimes > 0, 28, n(\"--atimes\", 28)),", "        (false, 28, n(\"--atimes\", 28)),"),
 ], ["atimes::atimes_push_and_pull_match_stock"], "fail"),
]
