# Deadlines (issue 9): every wait for the client is bounded by the
# session machine's deadlines (src/role/machine.rs), in every state; the
# session sets the limit for each state (src/session/).
MUTANTS = [
("deadline-write", "Deadlines: writes", [
  ("src/role/machine.rs", "            Some(read.min(self.last_out + limit))", "            Some(read)"),
 ], ["lib:role::machine::tests::a_client_that_sends_but_never_reads_times_out"], "fail"),
# The command line's --timeout bounds the -s arguments (without -s the
# second set, before authorize, already covers every later state).
("deadline-client-timeout", "Deadlines: -s under the command line's limit", [
  ("src/session/request.rs", "    // not known until the arguments have arrived.\n    super::set_limit(\n        link,\n        args.options.timeout,\n        crate::role::machine::START_LIMIT,\n    );\n", "    // not known until the arguments have arrived.\n"),
 ], [A+"deadlines::secluded_args_that_never_come"], "fail"),
("deadline-client-timeout-all", "Deadlines: from the first byte", [
  ("src/session/request.rs", "    // not known until the arguments have arrived.\n    super::set_limit(\n        link,\n        args.options.timeout,\n        crate::role::machine::START_LIMIT,\n    );\n", "    // not known until the arguments have arrived.\n"),
  ("src/session/mod.rs", "            set_limit(&link, args.options.timeout, START_LIMIT);\n", ""),
 ], [A+"deadlines::refused_push_with_timeout_ends_when_the_client_is_silent",
     A+"deadlines::silent_client_before_the_handshake"], "fail"),
("deadline-secluded-timeout", "Deadlines: -s arguments", [
  ("src/session/mod.rs", "            set_limit(&link, args.options.timeout, START_LIMIT);\n", ""),
 ], [A+"deadlines::secluded_timeout_governs_after_the_arguments"], "fail"),
("deadline-drain", "Deadlines: refusal drain", [
  ("src/role/machine.rs", "            return (!self.drain_over).then_some(t + DRAIN);", "            return (!self.drain_over).then_some(t + DRAIN * 100);"),
 ], [A+"deadlines::refused_push_drains_for_a_few_seconds_only"], "fail"),
("deadline-exit-code", "Deadlines: exit 30", [
  ("src/role/machine.rs", "            code: crate::error::code::TIMEOUT,", "            code: 0,"),
 ], [A+"deadlines::silent_client_in_the_transfer",
     A+"deadlines::silent_client_before_the_goodbye"], "fail"),
# --bwlimit (the client's limit, kept by the machine's pacer, whose
# pauses are deadlines of their own and never an idle timeout).
("bwlimit-session", "Deadlines: --bwlimit reaches the machine", [
  ("src/session/mod.rs", "            link.set_rate_limit(args.options.bwlimit.map(|k| u64::from(k) * 1024));\n", ""),
 ], ["pull::bwlimit::pull_keeps_to_the_clients_bwlimit"], "fail"),
("bwlimit-wake", "Deadlines: a --bwlimit pause ends", [
  ("src/role/machine.rs", "        self.pacer.wake(now);\n", ""),
 ], ["lib:role::pace::tests::a_pause_that_is_over_is_no_longer_a_deadline"], "fail"),
("bwlimit-writes", "Deadlines: --bwlimit caps each write", [
  ("src/role/machine.rs", "            max => self.link.take_output_max(buf, max),", "            _ => self.link.take_output(buf),"),
 ], ["lib:role::pace::tests::output_takes_as_long_as_the_rate_says"], "fail"),
]
