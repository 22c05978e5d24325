# The operator's command line (issue 13): each check `check` makes, the
# owner `authorize` gives a file written as root, and the refusal to run a
# subcommand for a remote client. `A` is predefined.
C = "cli::"
K = "cli::keys::"
MUTANTS = [
("cli-subcommand-remote", "Operator CLI", [
  ("src/app.rs", "    if std::env::var_os(\"SSH_ORIGINAL_COMMAND\").is_some() {\n        eprintln!(\"rrsync-rs: a subcommand", "    if false {\n        eprintln!(\"rrsync-rs: a subcommand"),
], [C + "help_and_version_print_to_stdout_and_succeed"], "fail"),
("cli-listen-ipv6-brackets", "Operator CLI", [
  ("src/ssh/mod.rs", "if host.is_empty() || host.contains([':', '[', ']']) ||", "if host.is_empty() ||"),
], [C + "serve_listens_on_a_bare_port_and_on_ipv6"], "fail"),
("cli-check-restrict", "Operator CLI", [
  ("src/check/lint.rs", "    if o.restrict {\n        return;", "    if true {\n        return;"),
], [K + "check_reports_grants_and_problems"], "fail"),
("cli-check-perms", "Operator CLI", [
  ("src/check/perms.rs", "    if mode & 0o022 != 0 {", "    if false && mode & 0o022 != 0 {"),
], [K + "check_reports_grants_and_problems"], "fail"),
("cli-check-root", "Operator CLI", [
  ("src/check/lint.rs", "            if !f.root.exists() {", "            if false && !f.root.exists() {"),
], [K + "check_reports_grants_and_problems"], "fail"),
("cli-authorize-owner", "Operator CLI", [
  ("src/authorize/owner.rs", "            (None, true) => Ok(Some(dir_owner(file)?)),", "            (None, true) => Ok(None),"),
], [K + "authorize_as_root_gives_the_file_to_the_user"], "fail"),
("cli-authorize-duplicate", "Operator CLI", [
  ("src/authorize/file.rs", "        (Some(n), false) => {", "        (Some(n), false) if n == 0 => {"),
  ("src/authorize/file.rs", "        (Some(_), true) => {}\n", "        (Some(_), _) => {}\n"),
], [K + "authorize_replaces_removes_and_lists"], "fail"),
]
