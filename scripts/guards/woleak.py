# -wo must not read, -blind, and the -munge round trip (issue 9).
# Shape: (id, class, [(file, old, new)], [tests], "fail"|"pass").
W = "push::wo_leak::"
B = "src/role/receiver/basis.rs"
MUTANTS = [
("wo-block-floor", "Write-only sums", [
  (B, "            Some(Some(asked.map_or(floor, |b| b.max(floor))))", "            Some(asked.or(Some(floor)))"),
 ], [W+"wo_blocks_never_finer_than_default"], "fail"),
("wo-redo-no-sums", "Write-only sums", [
  (B, "            if redo || !replaced || cfg.overwrite.is_none() {", "            if !replaced || cfg.overwrite.is_none() {"),
 ], [W+"redo_sends_no_sums"], "fail"),
("wo-alt-basis-no-sums", "Write-only sums", [
  (B, "            let replaced = matches!(fnamecmp, None | Some(FNAMECMP_PARTIAL_DIR));", "            let replaced = fnamecmp != Some(255);"),
 ], [W+"wo_alt_dest_basis_gets_no_sums"], "fail"),
("wo-alt-no-content-compare", "Write-only sums", [
  (B, "        BlockSums::Coarse => own,", "        BlockSums::Coarse => own || true,"),
 ], [W+"wo_alt_dest_basis_gets_no_sums"], "fail"),
("wo-coarse-mode", "Write-only sums", [
  ("src/policy/mod.rs", "                (false, Mode::WriteOnly) => BlockSums::Coarse,", "                (false, Mode::WriteOnly) => BlockSums::AsAsked,"),
 ], [W+"wo_blocks_never_finer_than_default", W+"wo_alt_dest_basis_gets_no_sums"], "fail"),
("blind-no-sums", "Blind", [
  (B, "        BlockSums::Blind => None,", "        BlockSums::Blind => Some(asked),"),
 ], [W+"blind_sends_no_sums_and_compares_nothing"], "fail"),
("blind-no-content-compare", "Blind", [
  (B, "        BlockSums::Blind => false,", "        BlockSums::Blind => true,"),
 ], [W+"blind_sends_no_sums_and_compares_nothing"], "fail"),
("blind-mode", "Blind", [
  ("src/policy/mod.rs", "                (true, _) => BlockSums::Blind,", "                (true, _) => BlockSums::Coarse,"),
 ], [W+"blind_sends_no_sums_and_compares_nothing"], "fail"),
("munge-unmunge", "Munge", [
  ("src/role/sender/walk.rs", "Some(if self.opts.munge_links { unmunge(t) } else { t })", "Some(t)"),
 ], ["pull::munge::munge_pull_returns_the_pushed_targets"], "fail"),
]
# -blind and extended attributes (issue 11): the generator's flags and
# requests never depend on the values the server holds.
MUTANTS += [
("woleak-blind-xattr", "-blind", [
  ("src/role/receiver/meta.rs", "(Some(_), Some(fd)) if !blind =>", "(Some(_), Some(fd)) if !blind || true =>"),
 ], ["meta::blind_reveals_no_attribute_equality"], "fail"),
# A rule file in the destination is not read under -wo.
("wo-rule-files", "Write-only rule files", [
  ("src/role/receiver/del_filter.rs", "            may_read: sums == BlockSums::AsAsked,", "            may_read: true,"),
 ], ["push::delete_rules::write_only_reads_no_rule_file", "lib:role::receiver::del_filter::tests::write_only_reads_no_file_and_keeps_its_directory_whole"], "fail"),
# The receiver works from the request the generator sent, not the echo.
("echo-trusted", "Write-only sums", [
  ("src/role/receiver/file.rs", "        if same_type && a.head == head {", "        let a = Asked { basis_type, head, ..a };\n        if true {"),
 ], ["adversarial::echo::echoed_sum_head_cannot_shrink_the_blocks", "adversarial::echo::echoed_basis_type_cannot_name_another_file"], "fail"),
("fuzzy-wo", "Write-only sums", [
  ("src/role/receiver/generator/fuzzy.rs", "        let may = self.cfg.sums == BlockSums::AsAsked;", "        let may = self.cfg.sums != BlockSums::Blind;"),
 ], ["adversarial::echo::write_only_offers_no_fuzzy_basis"], "fail"),
]
