# Deadlines (issue 9): every wait for the client is bounded by the
# session's IdleClock (src/driver/deadline.rs), in every state.
MUTANTS = [
("deadline-write", "Deadlines: writes", [
  ("src/driver/deadline.rs", "                    Side::Write => start,", "                    Side::Write => u64::MAX / 2,"),
 ], [A+"deadlines::pulling_client_that_stops_reading_is_dropped",
     A+"deadlines::stock_client_stopped_mid_pull_is_dropped"], "fail"),
# The command line's --timeout bounds the -s arguments (without -s the
# second set, before authorize, already covers every later state).
("deadline-client-timeout", "Deadlines: -s under the command line's limit", [
  ("src/driver/mod.rs", "    // not known until the arguments have arrived.\n    clock.set(args.options.timeout, deadline::DEFAULT_START_TIMEOUT);\n", "    // not known until the arguments have arrived.\n"),
 ], [A+"deadlines::secluded_args_that_never_come"], "fail"),
("deadline-client-timeout-all", "Deadlines: from the first byte", [
  ("src/driver/mod.rs", "    // not known until the arguments have arrived.\n    clock.set(args.options.timeout, deadline::DEFAULT_START_TIMEOUT);\n", "    // not known until the arguments have arrived.\n"),
  ("src/driver/mod.rs", "            clock.set(args.options.timeout, deadline::DEFAULT_START_TIMEOUT);\n            let result = crate::policy::authorize(flags, args);", "            let result = crate::policy::authorize(flags, args);"),
 ], [A+"deadlines::refused_push_with_timeout_ends_when_the_client_is_silent",
     A+"deadlines::silent_client_before_the_handshake"], "fail"),
("deadline-secluded-timeout", "Deadlines: -s arguments", [
  ("src/driver/mod.rs", "            clock.set(args.options.timeout, deadline::DEFAULT_START_TIMEOUT);\n            let result = crate::policy::authorize(flags, args);", "            let result = crate::policy::authorize(flags, args);"),
 ], [A+"deadlines::secluded_timeout_governs_after_the_arguments"], "fail"),
("deadline-drain", "Deadlines: refusal drain", [
  ("src/driver/mod.rs", "    clock.cap(DRAIN_SECS);\n", ""),
 ], [A+"deadlines::refused_push_drains_for_a_few_seconds_only"], "fail"),
("deadline-exit-code", "Deadlines: exit 30", [
  ("src/driver/session.rs", "    if clock.expired().is_some() {\n        return (super::timed_out(clock), t);", "    if false {\n        return (super::timed_out(clock), t);"),
 ], [A+"deadlines::silent_client_in_the_transfer",
     A+"deadlines::silent_client_before_the_goodbye"], "fail"),
]
