#!/usr/bin/env python3
"""Guard-removal check for the adversarial suite (issue 4, "Done when").

Each mutant below removes one guard against hostile input (or, where two
layers defend the same class, one layer or both), rebuilds the binary, and
runs the adversarial tests that prove that class. A mutant marked "fail"
must make at least one of its tests fail; one marked "pass" removes a
single layer while another still holds, so its tests must still pass.

The work happens in a fresh clone of HEAD (the checkout is never touched),
built with a quicker release profile into its own target directory:

    python3 scripts/guard-check.py              # every mutant, ~30 minutes
    python3 scripts/guard-check.py mux-length   # named mutants only
    python3 scripts/guard-check.py --check      # only: does each still apply?

Prints one tab-separated line per mutant: id, class, caught/not-caught,
the expectation, OK or SURPRISE, the time taken and each test's outcome.
Exits 1 if any line is a SURPRISE. The clone and its target directory
are removed at the end unless GUARD_CHECK_KEEP is set. Runs as root in CI-like containers:
the confinement mutants only ever aim at the tests' own sandbox (the pull
race also reads `/`), never write outside it.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

A = "adversarial::"
# (id, class, [(file, old, new)], [tests], expectation)
MUTANTS = [
("ndx-range-all", "Ndx", [
  ("src/role/sender/send.rs", "        if ndx < 0 {\n            return Err(protocol(format!(\"invalid file index {ndx} received\")));", "        if false && ndx < 0 {\n            return Err(protocol(format!(\"invalid file index {ndx} received\")));"),
  ("src/role/sender/send.rs", "if lists.get(ndx).is_none() {", "if false && lists.get(ndx).is_none() {"),
  ("src/role/sender/send.rs", "let Some(item) = lists.get(req.ndx) else {", "let Some(item) = Some(lists.get(req.ndx).unwrap()) else {"),
 ], [A+"sender::ndx_negative_out_of_range_directory_earlier_list", A+"sender::ndx_protocol_29_raw_ints"], "fail"),
("ndx-range-len-only", "Ndx", [
  ("src/role/sender/send.rs", "if lists.get(ndx).is_none() {", "if false && lists.get(ndx).is_none() {"),
 ], [A+"sender::ndx_negative_out_of_range_directory_earlier_list"], "pass"),
# Incremental recursion: a list the client finished is freed, and the
# slot before a list names its parent directory only when it has one.
("inc-free", "Ndx", [
  ("src/role/sender/send.rs", "if inc.is_some() && lists.free_first() && !lists.is_empty() {", "if inc.is_some() && true && !lists.is_empty() {"),
 ], [A+"sender_inc::ndx_outside_the_live_lists_is_refused"], "fail"),
("inc-parent-slot", "Ndx", [
  ("src/role/sender/lists.rs", "return self.dirs.get(&l.parent?).map(|b| &**b);", "return self.dirs.get(&l.parent.unwrap_or(0)).map(|b| &**b);"),
 ], [A+"sender_inc::ndx_outside_the_live_lists_is_refused"], "fail"),
("ndx-directory", "Ndx", [
  ("src/role/sender/send.rs", "if !item.entry.is_file() {", "if false && !item.entry.is_file() {"),
 ], [A+"sender::ndx_negative_out_of_range_directory_earlier_list"], "fail"),
("sum-s2length", "Sum header", [
  ("src/checksum/sum_head.rs", "if s2_len as usize > digest_len.min(super::strong::MAX_DIGEST_LEN) {", "if false {"),
 ], [A+"sender::sum_head_s2length_above_digest"], "fail"),
("sum-zero-blength", "Sum header", [
  ("src/checksum/sum_head.rs", "if count > 0 && block_len == 0 {", "if false && count > 0 && block_len == 0 {"),
 ], [A+"sender::sum_head_counts_and_lengths"], "fail"),
("sum-count-cap", "Sum header", [
  ("src/checksum/sum_head.rs", "if count > MAX_SUM_COUNT {", "if false && count > MAX_SUM_COUNT {"),
 ], [A+"sender::sum_head_counts_and_lengths"], "fail"),
("sum-remainder", "Sum header", [
  ("src/checksum/sum_head.rs", "if remainder > block_len {", "if false && remainder > block_len {"),
 ], [A+"sender::sum_head_counts_and_lengths"], "fail"),
("sum-blength-max", "Sum header", [
  ("src/checksum/sum_head.rs", "if block_len > max_block_len(protocol) {", "if false && block_len > max_block_len(protocol) {"),
 ], [A+"sender::sum_head_counts_and_lengths"], "fail"),
("sum-reserve", "Sum header", [
  ("src/delta/signature.rs", "Vec::with_capacity(count.min(INITIAL_RESERVE))", "Vec::with_capacity(count)"),
 ], [A+"sender::sum_head_max_count_memory_is_bounded"], "fail"),
("sum-sorted-candidates", "Sum header", [
  ("src/delta/index.rs", "    let s = |i: &u32| blocks.get(*i as usize).map(|x| x.strong);\n", "    if true {\n        return cands.iter().copied().find(|&i| i >= min_idx && blocks.get(i as usize).map(|x| x.strong) == Some(*strong));\n    }\n    let s = |i: &u32| blocks.get(*i as usize).map(|x| x.strong);\n"),
 ], [A+"sender::equal_weak_sums_stay_linear"], "fail"),
("sum-false-alarm-budget", "Sum header", [
  ("src/delta/matcher.rs", "        if s.budget == 0 {\n            return None;", "        if false && s.budget == 0 {\n            return None;"),
 ], [A+"sender::equal_weak_sums_stay_linear", A+"sender::equal_weak_sums_with_the_largest_blocks_stay_linear"], "fail"),
("names-check", "File list: names", [
  ("src/flist/decode.rs", "fn check_name(name: &[u8]) -> Result<(), FlistError> {\n", "fn check_name(name: &[u8]) -> Result<(), FlistError> {\n    if !name.is_empty() {\n        return Ok(());\n    }\n"),
 ], [A+"receiver::flist_unsafe_names"], "fail"),
("names-length", "File list: names", [
  ("src/flist/decode.rs", "if l1 > self.last_name.len() || l1.saturating_add(l2) >= self.limits.max_path {", "if l1 > self.last_name.len() {"),
 ], [A+"receiver::flist_unsafe_names"], "fail"),
("dot-root", "File list: names", [
  ("src/flist/decode_fields.rs", "if (name == b\".\" || name == b\"/.\") && kind != FileKind::Dir {", "if false {"),
 ], [A+"receiver::flist_unsafe_names"], "fail"),
("duplicates", "File list: duplicates", [
  ("src/role/receiver/sort.rs", "            if a.borrow().name == b.borrow().name {", "            if false && a.borrow().name == b.borrow().name {"),
 ], [A+"receiver::flist_duplicates_and_device"], "fail"),
("sublist", "File list: sub-list", [
  ("src/role/receiver/recv.rs", "            let i = usize::try_from(ndx).ok()", "            if ndx <= crate::wire::NDX_FLIST_OFFSET {\n                continue;\n            }\n            let i = usize::try_from(ndx).ok()"),
 ], [A+"receiver::flist_sub_list_for_unsent_directory"], "fail"),
("hlink-without-H", "File list: hard links", [
  ("src/flist/decode_fields.rs", "if x & xmit::HLINKED != 0 && !o.preserve_hard_links {", "if false && x & xmit::HLINKED != 0 && !o.preserve_hard_links {"),
 ], [A+"receiver::flist_hard_link_without_h"], "fail"),
("hlink-range", "File list: hard links", [
  ("src/flist/decode_fields.rs", "                .filter(|&f| (f as usize) < start as usize + self.entries.len())", "                .filter(|_| true)"),
  ("src/flist/decode_fields.rs", "let Some(src) = self.entries.get((first - start) as usize) else {", "let Some(src) = Some(&self.entries[(first - start) as usize]) else {"),
 ], [A+"receiver::flist_hard_link_reference_out_of_range"], "fail"),
("entry-budget", "Limits: memory", [
  ("src/session/options.rs", "        .clamp(1_000, 50_000_000)", "        .clamp(1_000, 50_000_000)\n        .max(usize::MAX)"),
 ], [A+"receiver::flist_entry_count_is_capped_by_memory"], "fail"),
("confine-openat2-only", "Confinement", [
  ("src/fs/mod.rs", "const RESOLVE: ResolveFlags = ResolveFlags::BENEATH.union(ResolveFlags::NO_MAGICLINKS);", "const RESOLVE: ResolveFlags = ResolveFlags::empty();"),
 ], [A+"receiver::symlink_then_file_beneath_it", A+"races::race_pull_with_symlink_swaps", A+"races::race_push_with_symlink_swaps", A+"sender::merge_files_outside_the_root"], "pass"),
("confine-landlock-only", "Confinement", [
  ("src/driver/host.rs", "        crate::sandbox::restrict(&root, rights);", "        let _ = (&root, rights);"),
 ], [A+"receiver::symlink_then_file_beneath_it", A+"races::race_pull_with_symlink_swaps", A+"races::race_push_with_symlink_swaps", A+"sender::merge_files_outside_the_root"], "pass"),
("confine-both", "Confinement", [
  ("src/fs/mod.rs", "const RESOLVE: ResolveFlags = ResolveFlags::BENEATH.union(ResolveFlags::NO_MAGICLINKS);", "const RESOLVE: ResolveFlags = ResolveFlags::empty();"),
  ("src/driver/host.rs", "        crate::sandbox::restrict(&root, rights);", "        let _ = (&root, rights);"),
 ], [A+"receiver::symlink_then_file_beneath_it", A+"races::race_pull_with_symlink_swaps", A+"races::race_push_with_symlink_swaps", A+"sender::merge_files_outside_the_root"], "fail"),
# Under -ro Landlock must not grant truncation: a read-only open with
# O_TRUNC would then truncate (seccomp cannot see openat2's flags, so it
# could not take this over).
("landlock-ro-truncate", "Confinement", [
  ("src/sandbox.rs", "        Rights::Read => AccessFs::from_read(abi),", "        Rights::Read => AccessFs::from_read(abi) | AccessFs::Truncate,"),
 ], ["lib:sandbox::tests::second_wall_holds_without_openat2"], "fail"),
("landlock-remove-truncate", "Confinement", [
  ("src/sandbox.rs", "        Rights::ReadRemove => AccessFs::from_read(abi) | AccessFs::RemoveFile,", "        Rights::ReadRemove => AccessFs::from_read(abi) | AccessFs::RemoveFile | AccessFs::Truncate,"),
 ], ["lib:sandbox::tests::second_wall_holds_for_remove_source_files"], "fail"),
("token-index-decoder", "Token stream", [
  ("src/token/mod.rs", "        Ok(i) if i < count => Ok(i),", "        Ok(i) => Ok(i),"),
 ], [A+"tokens::token_block_index_out_of_range"], "pass"),
("token-index-both", "Token stream", [
  ("src/token/mod.rs", "        Ok(i) if i < count => Ok(i),", "        Ok(i) => Ok(i),"),
  ("src/delta/apply.rs", "        if index >= self.head.count {", "        if false && index >= self.head.count {"),
 ], [A+"tokens::token_block_index_out_of_range"], "fail"),
("token-literal-chunk", "Token stream", [
  ("src/token/plain.rs", "            Err(ev) => return Ok(Some(ev.lend(&[]))),\n        };\n        let n = run.min(CHUNK_SIZE);", "            Err(ev) => return Ok(Some(ev.lend(&[]))),\n        };\n        let n = run;"),
 ], ["lib:token::slice_tests::a_long_literal_run_comes_out_a_chunk_at_a_time", A+"tokens::token_literal_over_the_limit"], "fail"),
("token-verify", "Token stream", [
  ("src/role/receiver/file.rs", "        let ok = ap.verify(&sum);", "        let ok = {\n            let _ = ap.verify(&sum);\n            true\n        };"),
 ], [A+"tokens::token_decompression_bombs"], "fail"),
("token-zstd-outbuf", "Token stream", [
  ("src/token/zstd.rs", "            dbuf: vec![0u8; OUT_CHUNK],", "            dbuf: vec![0u8; 512 << 20],"),
  ("src/token/zstd.rs", "if self.cpos >= self.cbuf.len() && n < OUT_CHUNK {", "if self.cpos >= self.cbuf.len() && n < (512 << 20) {"),
 ], [A+"tokens::token_decompression_bombs"], "fail"),
("token-temp-cleanup", "Token stream: truncation", [
  ("src/role/receiver/file.rs", "            if w.place(&t, &target, Some(permit)).is_ok() {\n                return;\n            }\n        }\n        let _ = w.remove(&t, None);", "            if w.place(&t, &target, Some(permit)).is_ok() {\n                return;\n            }\n        }\n        let _ = &t;"),
 ], [A+"replay::truncated_push_sessions"], "fail"),
("filter-backslash", "Filters", [
  ("src/filter/wildmatch.rs", "                    match pattern.get(i + 1) {\n                        Some(&n) => toks.push(Tok::Lit(n)),\n                        None => toks.push(Tok::Lit(b'\\\\')),\n                    }", "                    toks.push(Tok::Lit(pattern[i + 1]));"),
 ], [A+"sender::filter_rule_with_trailing_backslash"], "fail"),
("filter-merge-name", "Filters", [
  ("src/filter/rule.rs", "    if name.is_empty() || name == b\".\" || name == b\"..\" || name.contains(&b'/') {", "    if false && (name.is_empty() || name == b\".\" || name == b\"..\" || name.contains(&b'/')) {"),
 ], [A+"sender::merge_files_outside_the_root"], "fail"),
("args-secluded-count", "Arguments", [
  ("src/cli/secluded.rs", "            if !word.is_empty() && self.args.len() >= MAX_SECLUDED_ARGS {", "            if false && !word.is_empty() && self.args.len() >= MAX_SECLUDED_ARGS {"),
 ], [A+"args::secluded_args_100k"], "fail"),
("args-secluded-arglen", "Arguments", [
  ("src/cli/secluded.rs", "                if i >= MAX_SECLUDED_ARG_LEN {", "                if false && i >= MAX_SECLUDED_ARG_LEN {"),
 ], [A+"args::secluded_args_huge_and_unterminated"], "fail"),
("args-command-len", "Arguments", [
  ("src/cli/forced.rs", "pub fn parse_original_command(cmd: &str) -> Result<Request, CliError> {\n    if cmd.len() > MAX_COMMAND_LEN {", "pub fn parse_original_command(cmd: &str) -> Result<Request, CliError> {\n    if false && cmd.len() > MAX_COMMAND_LEN {"),
  ("src/cli/forced.rs", "pub fn tokenize(cmd: &str) -> Result<Vec<String>, CliError> {\n    if cmd.len() > MAX_COMMAND_LEN {", "pub fn tokenize(cmd: &str) -> Result<Vec<String>, CliError> {\n    if false && cmd.len() > MAX_COMMAND_LEN {"),
 ], [A+"args::command_line_limits"], "fail"),
("args-block-size", "Arguments", [
  ("src/cli/opt_apply.rs", "            if n > MAX_BLOCK_SIZE {", "            if false && n > MAX_BLOCK_SIZE {"),
 ], [A+"args::numeric_options_out_of_range"], "fail"),
("args-max-alloc-zero", "Arguments", [
  ("src/cli/opt_apply.rs", "            if n == 0 {\n                return Err(bad(opt, v, \"must be greater than zero\"));", "            if false && n == 0 {\n                return Err(bad(opt, v, \"must be greater than zero\"));"),
  ("src/cli/opt_apply.rs", "            if !(MIN_ALLOC..=MAX_ALLOC_LIMIT).contains(&n) {", "            if n != 0 && !(MIN_ALLOC..=MAX_ALLOC_LIMIT).contains(&n) {"),
 ], [A+"args::numeric_options_out_of_range"], "fail"),
("mux-length", "Multiplexing", [
  ("src/wire/mux.rs", "        if len > MAX_MSG {\n            return Err(CodecError::TooLong", "        if false && len > MAX_MSG {\n            return Err(CodecError::TooLong"),
 ], [A+"args::mux_unknown_codes_and_huge_frames"], "fail"),
("mux-unknown", "Multiplexing", [
  ("src/wire/mux.rs", "        _ => return Err(CodecError::UnexpectedMessage(code)),\n    };", "        _ => return Ok(None),\n    };"),
 ], [A+"args::mux_unknown_codes_and_huge_frames"], "fail"),
("varint-overlong", "Varint", [
  ("src/wire/int.rs", "        if extra > 4 {\n            return Err(CodecError::OutOfRange(what).into());", "        if false && extra > 4 {\n            return Err(CodecError::OutOfRange(what).into());"),
  ("src/wire/int.rs", "        if extra == 4 && high != 0 {", "        if false && extra == 4 && high != 0 {"),
 ], [A+"args::varints_overlong_and_out_of_range"], "fail"),
("varlong-overlong", "Varint", [
  ("src/wire/int.rs", "    if b[8] != 0 {", "    if false && b[8] != 0 {"),
 ], [A+"args::varints_overlong_and_out_of_range"], "fail"),
("size-negative", "Varint", [
  ("src/flist/decode_fields.rs", "        let Ok(size) = u64::try_from(size) else {\n            return bad(format!(\"negative file size for {}\", shown()));\n        };", "        let size = size as u64;"),
 ], [A+"args::varints_overlong_and_out_of_range"], "fail"),
("handshake-version", "Handshake", [
  ("src/proto/handshake.rs", "        if remote < PROTOCOL_MIN as i32 {", "        if false && remote < PROTOCOL_MIN as i32 {"),
 ], [A+"args::handshake_garbage", A+"args::handshake_failure_is_reported"], "fail"),
("handshake-nstr", "Handshake", [
  ("src/proto/handshake.rs", "let theirs = r.vstring(MAX_NSTR, \"the checksum list\")", "let theirs = r.vstring(1 << 20, \"the checksum list\")"),
 ], [A+"args::handshake_garbage"], "fail"),
("idle-timeout", "Limits: time-out", [
  ("src/role/machine.rs", "        let read = self.last_io + limit;", "        let read = self.last_io + limit * 1000;"),
 ], [A+"args::idle_client_is_dropped_after_timeout"], "fail"),
]


def load_extra_mutants():
    """Mutants kept beside this script, one file per area: scripts/guards/*.py,
    each defining MUTANTS in the same shape as the list above."""
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guards")
    extra = []
    if os.path.isdir(here):
        for name in sorted(os.listdir(here)):
            if name.endswith(".py") and not name.startswith("_"):
                ns = {"A": A}
                with open(os.path.join(here, name)) as fh:
                    exec(compile(fh.read(), name, "exec"), ns)
                extra.extend(ns.get("MUTANTS", []))
    return extra


MUTANTS += load_extra_mutants()


def apply(repo, edits):
    for f, old, new in edits:
        p = os.path.join(repo, f)
        with open(p) as fh:
            s = fh.read()
        if s.count(old) != 1:
            return f"{f}: pattern found {s.count(old)} times: {old[:60]!r}"
        with open(p, "w") as fh:
            fh.write(s.replace(old, new))
    return None


def run_test(repo, env, test):
    # "lib:NAME" is a unit test of the library; anything else a protocol test.
    if test.startswith("lib:"):
        target, test = ["--lib"], test[len("lib:"):]
    else:
        target = ["--test", "protocol"]
    r = subprocess.run(
        ["cargo", "test", "--release", *target, test, "--", "--exact"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=900,
    )
    if "test result: ok. 1 passed" in r.stdout:
        return "PASS", ""
    if "running 0 tests" in r.stdout:
        return "MISSING", "no such test"
    lines = (r.stdout + r.stderr).splitlines()
    for k, line in enumerate(lines):
        if "panicked at" in line:
            return "FAIL", " | ".join(lines[k + 1:k + 3])[:300]
    return "FAIL", ""


def check_texts(repo):
    """`--check`: every mutant's old text occurs exactly once in the tree,
    without building anything. A refactor that moves a guard makes its
    mutant stale, and a stale mutant proves nothing; CI runs this."""
    stale = 0
    ids = set()
    for mid, cls, edits, tests, expect in MUTANTS:
        if mid in ids:
            print(f"{mid}\tduplicate mutant id")
            stale += 1
        ids.add(mid)
        for f, old, new in edits:
            p = os.path.join(repo, f)
            n = open(p).read().count(old) if os.path.exists(p) else 0
            if n != 1:
                print(f"{mid}\t{f}: pattern found {n} times: {old[:60]!r}")
                stale += 1
    print(f"{len(MUTANTS)} mutants, {stale} stale")
    return stale


def main():
    here = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True,
                          text=True, check=True).stdout.strip()
    if sys.argv[1:] == ["--check"]:
        sys.exit(1 if check_texts(here) else 0)
    work = tempfile.mkdtemp(prefix="rrsync-guard-check-", dir=os.environ.get("TMPDIR", "/var/tmp"))
    repo = os.path.join(work, "src")
    subprocess.run(["git", "clone", "-q", here, repo], check=True)
    env = dict(os.environ)
    env.update({
        "CARGO_TARGET_DIR": os.path.join(work, "target"),
        "CARGO_PROFILE_RELEASE_LTO": "false",
        "CARGO_PROFILE_RELEASE_CODEGEN_UNITS": "16",
        "CARGO_PROFILE_RELEASE_INCREMENTAL": "true",
        "CARGO_PROFILE_RELEASE_DEBUG": "0",
        "RRSYNC_BIN": os.path.join(work, "target", "release", "rrsync-rs"),
    })
    env.setdefault("RSYNC_CLIENTS", "/usr/bin/rsync")
    only = sys.argv[1:]
    try:
        surprises = run_all(repo, env, only)
    finally:
        if not os.environ.get("GUARD_CHECK_KEEP"):
            shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if surprises else 0)


def run_all(repo, env, only):
    """Runs the selected mutants; returns how many surprised us."""
    surprises = 0
    for mid, cls, edits, tests, expect in MUTANTS:
        if only and mid not in only:
            continue
        subprocess.run(["git", "checkout", "-q", "--", "."], cwd=repo, check=True)
        t0 = time.time()
        bad = apply(repo, edits)
        if bad is None:
            b = subprocess.run(["cargo", "build", "--release", "--bins", "--tests"],
                               cwd=repo, env=env, capture_output=True, text=True)
            bad = None if b.returncode == 0 else "build failed: " + b.stderr[-400:]
        if bad is not None:
            surprises += 1
            print(f"{mid}\tERROR\t{bad}", flush=True)
            continue
        outcomes = [(t.split("::")[-1], *run_test(repo, env, t)) for t in tests]
        caught = any(o[1] == "FAIL" for o in outcomes)
        ok = caught == (expect == "fail") and all(o[1] != "MISSING" for o in outcomes)
        surprises += not ok
        detail = " ; ".join(f"{n}={r} {w}".rstrip() for n, r, w in outcomes)
        print(f"{mid}\t{cls}\t{'caught' if caught else 'not-caught'}\texpected-{expect}\t"
              f"{'OK' if ok else 'SURPRISE'}\t{int(time.time() - t0)}s\t{detail}", flush=True)
    return surprises


if __name__ == "__main__":
    main()
