# Incremental recursion on the receiver (CVE-2024-12087): each check on
# a sub-list removed makes its adversarial test fail. `A` is predefined.
I = A + "receiver::"
MUTANTS = [
# Clamping the directory index instead of refusing it.
("inc-dir-index", "Sub-list", [
  ("src/role/receiver/lists.rs", "        .and_then(|d| inc.dirs.get_mut(d));", "        .and_then(|d| inc.dirs.get_mut(d.min(used.saturating_sub(1))));"),
], [I + "inc_sub_list_dir_index_out_of_range"], "fail"),
("inc-duplicate", "Sub-list", [
  ("src/role/receiver/lists.rs", "    if *got {", "    if false && *got {"),
], [I + "inc_sub_list_twice_for_one_directory"], "fail"),
("inc-after-freed", "Sub-list", [
  ("src/role/receiver/lists.rs", "    if inc.freed >= inc.segs.len() {\n        return Err(", "    if false && inc.freed >= inc.segs.len() {\n        return Err("),
], [I + "inc_sub_list_after_every_list_was_freed"], "fail"),
("inc-dirname", "Sub-list", [
  ("src/role/receiver/lists.rs", "        if dn != pname.as_slice() {", "        if false && dn != pname.as_slice() {"),
], [I + "inc_sub_list_entry_outside_its_directory"], "fail"),
# A follower naming a group no earlier list began.
("inc-hlink-gnum", "Sub-list", [
  ("src/role/receiver/lists.rs", "        if let Some(f) = first.filter(|&f| !inc.begun.contains(&(f as u32))) {", "        if let Some(f) = first.filter(|_| false) {"),
], [I + "inc_hard_link_to_a_group_never_begun"], "fail"),
]
# Names sent with named ACL entries wait in the tables until a list takes
# them: they count against the attribute budget (--max-alloc).
MUTANTS += [
("acl-names-budget", "Budget", [
  ("src/meta/mod.rs", "            .saturating_add(names);", "            .saturating_add(0 * names);"),
 ], ["lib:meta::tests::names_sent_with_acls_are_charged"], "fail"),
]
