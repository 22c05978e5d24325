# The sans-IO core (issue 10): what the client said survives the codec.
MUTANTS = [
("peer-exit-in-sums", "Core: the client's exit code while sums are read", [
  ("src/role/sender/data.rs", "        WireError::PeerExit(code) => SendError::Wire(WireError::PeerExit(code)),\n", ""),
 ], [A+"sender::the_clients_exit_code_survives_while_sums_are_read"], "fail"),
# Unit tests that once passed without their guard (issue 10).
("flist-safe-names", "Core: file-list names", [
  ("src/flist/decode.rs", "        check_new_name(&name, l1)?;\n", "        let _ = check_new_name;\n"),
 ], ["lib:flist::decode::tests::rejects_unsafe_names"], "fail"),
# A received name's check trusts only the components it shares whole with
# the previous name, which passed (issue 12).
("flist-name-trusted-prefix", "Core: file-list names", [
  ("src/flist/decode.rs", "    let head = name.get(..known).unwrap_or(&[]);\n", "    let head = name;\n"),
 ], ["lib:flist::decode::tests::prefix_trusting_name_check_matches_the_full_check"], "fail"),
# A path's one-pass look keeps the length limits (issue 12).
("path-quick-limits", "Core: path length limits", [
  ("src/fs/path.rs", "    let fits = |longest| raw.len() <= MAX_PATH_LEN && longest <= MAX_NAME_LEN;\n", "    let fits = |_longest: usize| true;\n"),
 ], ["lib:fs::tests::relpath_validation"], "fail"),
# The walker's look at a name it read keeps the one-name check, though the
# name comes with its NUL straight from the directory read (issue 12).
("dir-lstat-c-name", "Core: one name beneath a directory", [
  ("src/fs/dir.rs", "        check_name(name.to_bytes())?;\n", ""),
 ], ["lib:fs::tests::in_tree_reads"], "fail"),
# A directory's names are read into the buffers of the one the walker
# left, emptied first: nothing of the last directory is listed again
# (issue 12).
("dir-names-reuse-clear", "Core: one name beneath a directory", [
  ("src/fs/dir.rs", "        names.buf.clear();\n        names.ends.clear();\n", ""),
 ], ["lib:fs::tests::in_tree_reads"], "fail"),
("flist-entry-cap", "Core: file-list entry cap", [
  ("src/flist/decode.rs", "        if n >= self.limits.max_entries {", "        if false && n >= self.limits.max_entries {"),
 ], ["lib:flist::decode::tests::caps_entries"], "fail"),
# Under incremental recursion the cap counts the entries held at once,
# earlier lists included (issue 12): a client cannot flood sub-lists.
("flist-entry-cap-held", "Core: file-list entry cap", [
  ("src/flist/decode.rs", "        if self.held.saturating_add(n) >= self.limits.max_held {", "        if false && self.held.saturating_add(n) >= self.limits.max_held {"),
 ], ["lib:flist::decode::tests::caps_the_entries_held_not_the_tree"], "fail"),
# A small --max-alloc bounds each sub-list, not the tree: the ceiling on
# entries held at once never drops below the default budget's (issue 12).
("flist-held-floor", "Core: file-list entry cap", [
  ("src/session/options.rs", "    max_entries(o).max(default)\n", "    max_entries(o)\n"),
 ], ["push::inc::inc_recurse_push_budget_bounds_each_list_not_the_tree"], "fail"),
# Before each sub-list the receiver tells the decoder what it still holds
# (issue 12): lists it freed no longer count.
("flist-held-told", "Core: file-list entry cap", [
  ("src/role/receiver/lists.rs", "    d.set_held(list.entries.held());\n", ""),
 ], ["lib:role::receiver::lists::tests::the_next_decoder_counts_what_the_table_holds"], "fail"),
# The ACL and xattr tables a client fills are held to a byte budget.
("meta-budget", "Core: ACL and xattr tables within --max-alloc", [
  ("src/meta/mod.rs", "        if total > self.budget {", "        if false && total > self.budget {"),
 ], ["lib:meta::tests::new_lists_past_the_budget_are_refused_and_indexes_cost_nothing"], "fail"),
# The root's remembered parent directory is forgotten when the writer
# removes a directory (issue 12).
("parent-forget", "Core: remembered parent after rmdir", [
  ("src/fs/guard.rs", "        self.root.forget_parent();\n        write::rmdir(&dir, name)?;", "        write::rmdir(&dir, name)?;"),
 ], ["lib:fs::tests::remembered_parent_follows_the_writers_changes"], "fail"),
# A sender reads attributes by name in its directory (issue 12): the
# name's own, never a final symlink's target's, and one thread at a time
# holds the working directory.
("xattr-by-name-nofollow", "Core: attributes read by name", [
  ("src/fs/xattr.rs", "get_with(|buf| rustix::fs::lgetxattr(name, attr, buf))", "get_with(|buf| rustix::fs::getxattr(name, attr, buf))"),
  ("src/fs/xattr.rs", "list_with(|buf| rustix::fs::llistxattr(name, buf))", "list_with(|buf| rustix::fs::listxattr(name, buf))"),
 ], ["lib:fs::xattr_tests::a_symlink_is_read_itself_and_the_root_is_not_left"], "fail"),
("xattr-by-name-one-at-a-time", "Core: attributes read by name", [
  ("src/fs/xattr.rs", "        let _held = WORKING_DIR.lock().unwrap_or_else(|p| p.into_inner());\n", ""),
 ], ["lib:fs::xattr_tests::threads_reading_at_once_read_their_own_files"], "fail"),
# The writer forgets its remembered directory after a change that may
# change where its path leads, and keeps it after one that cannot
# (issue 12).
("place-forgets-after-move", "Core: remembered directory", [
  ("src/fs/guard.rs", "        if made.temp_file {\n            self.root.forget_linked_parent();", "        if true {\n            self.root.forget_linked_parent();"),
 ], ["lib:fs::place_tests::moving_a_directory_forgets_the_remembered_directory"], "fail"),
("place-keeps-after-file", "Core: remembered directory", [
  ("src/fs/guard.rs", "        if made.temp_file {\n            self.root.forget_linked_parent();", "        if false {\n            self.root.forget_linked_parent();"),
 ], ["lib:fs::place_tests::placing_a_file_keeps_the_remembered_directory"], "fail"),
("place-file-over-link-forgets", "Core: remembered directory", [
  ("src/fs/guard.rs", "        if made.temp_file {\n            self.root.forget_linked_parent();\n", "        if made.temp_file {\n"),
 ], ["lib:fs::place_tests::placing_a_file_over_a_symlink_forgets_a_directory_reached_through_it"], "fail"),
("unlink-forgets-linked", "Core: remembered directory", [
  ("src/fs/guard.rs", "        self.root.forget_linked_parent();\n        write::unlink", "        write::unlink"),
 ], ["lib:fs::place_tests::removing_a_symlink_forgets_a_directory_reached_through_it"], "fail"),
("linked-only", "Core: remembered directory", [
  ("src/fs/root.rs", "        if last.as_ref().is_some_and(|r| r.linked) {", "        if last.is_some() {"),
 ], ["lib:fs::place_tests::a_directory_reached_without_symlinks_outlives_an_unlink"], "fail"),
("linked-noticed", "Core: remembered directory", [
  ("src/fs/root.rs", "(open_beneath(self.fd(), parent, flags, 0)?, true)", "(open_beneath(self.fd(), parent, flags, 0)?, false)"),
 ], ["lib:fs::place_tests::placing_a_file_over_a_symlink_forgets_a_directory_reached_through_it"], "fail"),
# Options the client passes that the server must act on, not only accept.
("safe-links", "Core: --safe-links on push", [
  ("src/role/receiver/generator/mod.rs", "            FileKind::Symlink if self.unsafe_link(e) => Ok(()),\n", ""),
 ], ["push::options::safe_links_leaves_out_what_leads_outside"], "fail"),
("ignore-missing-args", "Core: --ignore-missing-args on pull", [
  ("src/role/sender/walk.rs", "        if missing && self.opts.ignore_missing_args {", "        if missing && self.opts.ignore_missing_args && false {"),
 ], ["pull::basic::ignore_missing_args_matches_stock"], "fail"),
("sparse", "Core: --sparse on push", [
  ("src/role/receiver/file.rs", "                        s.sparse = self.cfg.opts.sparse;", "                        s.sparse = false;"),
 ], ["push::options::sparse_push_leaves_holes"], "fail"),
("sparse-end", "Core: --sparse keeps a hole at the end", [
  ("src/role/receiver/place.rs", "        if tmp.is_none() || self.cfg.opts.sparse {", "        if tmp.is_none() {"),
 ], ["push::options::sparse_push_leaves_holes"], "fail"),
("make-room-force", "Core: --force makes room through a full directory", [
  ("src/role/receiver/generator/room.rs", "if cur.is_dir() && !self.cfg.opts.force && !empty() {", "if cur.is_dir() && !empty() {"),
 ], ["push::options::room_is_made_without_delete_as_stock_makes_it"], "fail"),
("make-room-empty", "Core: an empty directory makes room without --delete", [
  ("src/role/receiver/generator/room.rs", "if cur.is_dir() && !self.cfg.opts.force && !empty() {", "if cur.is_dir() && !self.cfg.opts.force {"),
 ], ["push::options::room_is_made_without_delete_as_stock_makes_it"], "fail"),
# --delete keeps what the rules protect inside a doomed directory, reads
# the destination's rule files, and -C's rules reach both roles.
("delete-doomed-rules", "Core: rules inside a directory being deleted", [
  ("src/role/receiver/delete.rs", "            if self.filter.protected(&w, is_dir, true) {", "            if false && self.filter.protected(&w, is_dir, true) {"),
 ], ["push::delete_rules::excluded_names_in_a_deleted_directory_stay"], "fail"),
("delete-rule-files", "Core: the destination's rule files on --delete", [
  ("src/role/receiver/delete.rs", "        self.filter.change_to(dir, self.cfg.root, self.dest);\n", ""),
 ], ["push::delete_rules::rule_files_in_the_destination_protect_what_they_name"], "fail"),
("cvs-sender", "Core: -C on pull", [
  ("src/session/roles.rs", "        rules.add_server_cvs_rules(crate::filter::Side::Sender)?;", "        let _ = &mut rules;"),
 ], ["pull::basic::cvs_exclude_leaves_out_what_stock_leaves_out"], "fail"),
# --existing makes nothing new; a pull's byte totals start where rsync's do.
("existing-new", "Core: --existing creates nothing", [
  ("src/role/receiver/generator/mod.rs", "        if cur.is_none() && self.cfg.opts.existing && !redo {", "        if cur.is_none() && self.cfg.opts.existing && !redo && !e.is_dir() && e.kind() != FileKind::Symlink {"),
 ], ["push::verbose::the_servers_lines_match_stock"], "fail"),
("stats-from-setup", "Core: a sender's byte totals", [
  ("src/session/roles.rs", "    link.start_counting();\n", ""),
 ], ["pull::basic::bytes_counted_as_stock_counts_them"], "fail"),
("backup-omits-dir-times", "Core: --backup implies -O", [
  ("src/session/options.rs", "        omit_dir_times: o.omit_dir_times || (o.backup && o.backup_dir.is_none()),", "        omit_dir_times: o.omit_dir_times,"),
 ], ["push::verbose::backup_leaves_directory_times"], "fail"),
("vv-uptodate", "Core: -vv's up-to-date lines", [
  ("src/role/receiver/generator/lines.rs", "            self.info2(e, if updated { \"\" } else { \" is uptodate\" });", "            let _ = updated;"),
 ], ["push::verbose::the_servers_lines_match_stock"], "fail"),
# A --link-dest file with other attributes is copied, not linked.
("link-dest-level3", "Core: --link-dest links only an exact match", [
  ("src/role/receiver/basis.rs", "        let exact = diff.is_empty();", "        let exact = true || diff.is_empty();"),
 ], ["push::verbose::alt_dest_matches_and_lines_match_stock"], "fail"),
("protocol-29-options", "Core: options protocol 28 cannot carry", [
  ("src/session/roles.rs", "        (o.prune_empty_dirs, 29, n(\"--prune-empty-dirs\", 29)),", "        (false, 29, n(\"--prune-empty-dirs\", 29)),"),
 ], ["adversarial::args::options_the_protocol_cannot_carry"], "fail"),
("nonreg-line", "Core: skipping non-regular file", [
  ("src/role/receiver/generator/lines.rs", "        if !self.cfg.opts.quiet {", "        if false {"),
 ], ["push::verbose::the_servers_lines_match_stock"], "fail"),
("fuzzy-basis", "Core: --fuzzy", [
  ("src/role/receiver/generator/file.rs", "            if let Some((t, bp, x)) = self.fuzzy_basis(e, path) {", "            if let Some((t, bp, x)) = None::<(u8, RelPath, Vec<u8>)> {"),
 ], ["push::fuzzy::fuzzy_basis_as_stock_chooses_it"], "fail"),
("fuzzy-changing", "Core: --fuzzy", [
  ("src/role/receiver/generator/file.rs", "            self.fuzzy_changing(e);", "            let _ = e;"),
 ], ["push::fuzzy::fuzzy_basis_as_stock_chooses_it"], "fail"),
("basis-below-29", "Core: alternate basis below protocol 29", [
  ("src/role/receiver/generator/file.rs", "            let basis_type = basis.and_then(|(_, t)| t);", "            let basis_type = basis.and_then(|(_, t)| t).filter(|_| p >= 29);"),
 ], ["push::verbose::alt_dest_matches_and_lines_match_stock"], "fail"),
# --chown, --usermap and --groupmap on a push (issue 12).
("usermap", "Core: --usermap/--chown on push", [
  ("src/role/receiver/owners.rs", "            users: table(&o.usermap, true),", "            users: table(&None, true),"),
 ], ["push::owners::chown_and_maps_set_the_owners_stock_sets"], "fail"),
("numeric-map", "Core: --numeric-ids with a map", [
  ("src/role/receiver/owners.rs", "            gids: o.group && (by_name || o.groupmap.is_some()),", "            gids: o.group && by_name,"),
 ], ["push::owners::chown_and_maps_set_the_owners_stock_sets"], "fail"),
("acl-map-inc", "Core: ACL ids under incremental recursion", [
  ("src/role/receiver/owners.rs", "            acl_uids: if inc { by_name } else { acls },", "            acl_uids: acls,"),
 ], ["push::owners::acl_ids_are_mapped_as_stock_maps_them"], "fail"),
("map-first-match", "Core: a map's first matching rule wins", [
  ("src/flist/idmap.rs", "            .iter()\n            .find(|r| r.from.matches(id, name))", "            .iter()\n            .rev()\n            .find(|r| r.from.matches(id, name))"),
 ], ["lib:flist::idmap::tests::the_first_matching_rule_wins_by_id_range_name_or_pattern", "push::owners::chown_and_maps_set_the_owners_stock_sets"], "fail"),
("map-syntax", "Core: a malformed map ends the push", [
  ("src/session/options.rs", "    let (map, dropped) = NameMap::parse(text, users, crate::flist::IdNames::system())?;", "    let Ok((map, dropped)) = NameMap::parse(text, users, crate::flist::IdNames::system()) else {\n        return Ok(None);\n    };"),
 ], ["push::owners::map_lines_and_refusals_read_as_stocks"], "fail"),
# Lines below protocol 30 under the tags a 2.6 client reads.
("old-tags", "Core: message tags below protocol 30", [
  ("src/role/link.rs", "        (Some(p), MsgCode::Error) if p < 30 => MsgCode::ErrorXfer,\n", ""),
 ], ["lib:role::link::tags_tests::below_protocol_30_lines_travel_under_the_tags_a_2_6_client_reads"], "fail"),
# When an unchanged entry's time is set (rsync's same_time, issue 12).
("time-accurate-after-c", "Core: times after -c", [
  ("src/role/receiver/generator/file.rs", "                let touch = o.checksum && o.times && !exact;", "                let touch = false && !exact;"),
 ], ["push::times::unchanged_entries_get_their_time_as_stock_sets_it"], "fail"),
("time-window-0-seconds", "Core: --modify-window 0 compares seconds", [
  ("src/role/receiver/attrs.rs", "        0 => a.0 == b.0,", "        0 => a == b,"),
 ], ["push::times::unchanged_entries_get_their_time_as_stock_sets_it"], "fail"),
("time-window-negative", "Core: a negative --modify-window compares nanoseconds", [
  ("src/role/receiver/attrs.rs", "        w if w < 0 => a == b,", "        w if w < 0 => a.0 == b.0,"),
 ], ["push::times::unchanged_entries_get_their_time_as_stock_sets_it"], "fail"),
("error-going-on", "Core: lines a session goes on after, below protocol 30", [
  ("src/role/link_lines.rs", "        let code = if old { MsgCode::Info } else { MsgCode::Error };", "        let code = if old && false { MsgCode::Info } else { MsgCode::Error };"),
 ], ["push::owners::map_lines_and_refusals_read_as_stocks"], "fail"),
# Owners change only where they differ; set-id bits come back (issue 12).
("owner-only-if-differs", "Core: an owner that is right is left alone", [
  ("src/role/receiver/attrs.rs", "    let uid = uid.filter(|u| cur.is_none_or(|m| m.uid != *u));\n", ""),
 ], ["push::owners::owners_change_only_where_they_differ"], "fail"),
("setid-after-chown", "Core: set-id bits after a change of owner", [
  ("src/role/receiver/attrs.rs", "            cur = w.root().lstat(path).ok();\n            again = cur;", "            again = cur;"),
 ], ["push::owners::owners_change_only_where_they_differ"], "fail"),
("unchanged-link-owner", "Core: an unchanged symlink's owner", [
  ("src/role/receiver/generator/kinds.rs", "                if !o.dry_run && (!ch.is_empty() || atime) {", "                if !o.dry_run && (ch.intersects(item::REPORT_TIME) || atime) {"),
 ], ["push::owners::owners_change_only_where_they_differ"], "fail"),
("file-sum-bounded", "Core: the -c sum reads no further than the stat's length", [
  ("src/checksum/whole.rs", "    let mut src = src.take(len);", "    let mut src = src.take(u64::MAX);"),
 ], ["lib:checksum::whole_tests::the_sum_covers_the_first_len_bytes_in_one_read"], "fail"),
# Our own work is not the client's silence; keep-alives (issue 12).
("work-not-silence", "Core: the time a role works does not count against the client", [
  ("src/role/machine.rs", "            .map_or(Duration::ZERO, |t| t.saturating_duration_since(now));", "            .map_or(Duration::ZERO, |_| Duration::ZERO);"),
 ], ["lib:role::link::keepalive::tests::the_time_a_role_works_is_not_the_clients_silence"], "fail"),
("keepalive-off", "Core: keep-alives while a role works", [
  ("src/role/link_keepalive.rs", "        if !s.mux_out {\n            return false;", "        if true {\n            return false;"),
 ], ["lib:role::link::keepalive::tests::a_working_role_sends_keep_alives_with_the_clients_timeout", "lib:role::receiver::machine_tests::the_generator_sends_keep_alives_as_it_works"], "fail"),
("keepalive-wiring", "Core: the client's --timeout turns keep-alives on", [
  ("src/session/mod.rs", "        link.set_keepalive(t);\n", ""),
 ], ["lib:session::tests::the_clients_timeout_turns_keep_alives_on"], "fail"),
("generator-keepalive", "Core: the generator's steps send keep-alives", [
  ("src/role/receiver/recv.rs", "            gen.step()?;\n            link.keep_alive().await;", "            gen.step()?;"),
 ], ["lib:role::receiver::machine_tests::the_generator_sends_keep_alives_as_it_works"], "fail"),
("output-begins-to-wait", "Core: output begins to wait when it appears", [
  ("src/role/machine.rs", "        self.last_out = match !waiting && self.link.has_output() {", "        self.last_out = match false {"),
 ], ["lib:role::link::keepalive::tests::output_begins_to_wait_when_it_appears"], "fail"),
("walk-keepalive", "Core: a whole list's walk sends keep-alives between directories", [
  ("src/role/sender/flist_out.rs", "        while walker.step() {\n            link.keep_alive().await;\n        }", "        while walker.step() {}"),
 ], ["lib:role::sender::machine_tests::the_whole_list_walk_sends_keep_alives"], "fail"),
("walk-steps", "Core: the walk stops after each directory", [
  ("src/role/sender/walk.rs", "        self.add_parsed(arg, &base, &path, name, nt);\n", "        self.add_parsed(arg, &base, &path, name, nt);\n        self.finish();\n"),
 ], ["lib:role::sender::machine_tests::the_whole_list_walk_sends_keep_alives"], "fail"),
("p29-keepalive-echo", "Core: a protocol-29 keep-alive is answered", [
  ("src/role/sender/send.rs", "            ctx.link.keep_alive().await;\n            continue;", "            continue;"),
 ], ["lib:role::sender::machine_tests::a_protocol_29_keep_alive_is_answered"], "fail"),
("push-noatime-sums", "Core: --open-noatime holds for the generator's -c sums", [
  ("src/role/receiver/basis.rs", "    let (f, _) = cfg.root.open_source(path, cfg.opts.noatime).ok()?;", "    let (f, _) = cfg.root.open_source(path, false).ok()?;"),
 ], ["atimes::atimes_push_and_pull_match_stock"], "fail"),
("push-noatime-basis", "Core: --open-noatime holds for a delta's basis", [
  ("src/role/receiver/basis.rs", "    cfg.root.open_read(path, cfg.opts.noatime).ok()", "    cfg.root.open_read(path, false).ok()"),
 ], ["atimes::atimes_push_and_pull_match_stock"], "fail"),
("push-noatime-wiring", "Core: the client's --open-noatime reaches the receiving side", [
  ("src/session/options.rs", "        noatime: o.open_noatime || o.atimes > 1,", "        noatime: false,"),
 ], ["atimes::atimes_push_and_pull_match_stock"], "fail"),
("inc-walk-keepalive", "Core: a sub-list's walk sends keep-alives", [
  ("src/role/sender/inc.rs", "        while self.walker.step() {\n            ctx.link.keep_alive().await;\n        }", "        while self.walker.step() {}"),
 ], ["lib:role::sender::machine_tests::a_huge_directory_is_looked_at_with_keep_alives"], "fail"),
("look-batch", "Core: a directory's names are looked at a batch per step", [
  ("src/role/sender/walk_dirs.rs", "const LOOK_BATCH: usize = 1024;", "const LOOK_BATCH: usize = usize::MAX;"),
 ], ["lib:role::sender::machine_tests::a_huge_directory_is_looked_at_with_keep_alives"], "fail"),
("sub-list-resume", "Core: a sub-list's waiting -R names follow its directory", [
  ("src/role/sender/walk_dirs.rs", "            self.resume_deferred(&name);", "            let _ = name;"),
 ], ["pull::inc::incremental_pulls_with_delete_relative_and_files_from_match_stock"], "fail"),
# Reading an open directory takes no second descriptor, so the walk
# fails only where it opens one, and says `opendir` as stock does.
("dir-read-rewinds", "Core: a directory is read through its own descriptor", [
  ("src/fs/dir.rs", "        rustix::fs::seek(&self.fd, rustix::fs::SeekFrom::Start(0))?;", "        let fd = open_beneath(&self.fd, b\".\", OFlags::RDONLY | OFlags::DIRECTORY, 0)?;"),
  ("src/fs/dir.rs", "rustix::fs::RawDir::new(&self.fd, &mut buf);", "rustix::fs::RawDir::new(&fd, &mut buf);"),
 ], ["pull::basic::a_directory_past_the_open_file_limit_is_reported_as_stock_does"], "fail"),
# An existing directory's attributes are applied from the generator's
# look; one made in place of a file is looked at anew.
("dir-seen-fresh", "Core: a directory made in a file's place is looked at anew", [
  ("src/role/receiver/generator/kinds.rs", "                Some(m) if !create => {", "                Some(m) => {"),
 ], ["push::options::room_is_made_without_delete_as_stock_makes_it"], "fail"),
# A name decodes into a given-back allocation, emptied first.
("decode-name-reused-clean", "Core: a name decoded into a reused allocation holds only its own bytes", [
  ("src/flist/decode.rs", "        name.clear();\n", ""),
 ], ["lib:flist::decode::slice_tests::whole_and_byte_by_byte_equal_the_stream_decoder"], "fail"),
# Only short name allocations are kept for reuse: what is kept stays small.
("spare-names-short", "Core: kept name allocations are short ones", [
  ("src/flist/decode.rs", ".filter(|n| n.capacity() <= SPARE_NAME_CAP)", ".filter(|_| true)"),
 ], ["lib:flist::decode::slice_tests::only_short_name_allocations_are_kept"], "fail"),
# A name in normal form is taken as it is; any other is normalised.
("relpath-normal-form", "Core: only a name in normal form is taken as it is", [
  ("src/fs/path.rs", "            b\"\" | b\".\" => normal = false,", "            b\"\" => normal = false,"),
 ], ["lib:fs::tests::new_matches_component_by_component"], "fail"),
]
