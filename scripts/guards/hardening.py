# serve hardening (issue 9): keys lines, pre-auth limits, SIGHUP, RSA,
# injection-proof operator lines. Each test runs one `serve` on 127.0.0.1.
S = "ssh::hardening::"
MUTANTS = [
("keys-multiple-command", "serve: keys lines", [
  ("src/ssh/keyline.rs", "        (true, _) => return syntax(format!(\"multiple \\\"{name}\\\" clauses\")),", "        (true, _) => {}"),
 ], [S+"serve_keys_lines_fail_closed"], "fail"),
("keys-flag-twice", "serve: keys lines", [
  ("src/ssh/keyline.rs", "    if o.flag(base).is_some() {", "    if false && o.flag(base).is_some() {"),
 ], [S+"serve_keys_lines_fail_closed"], "fail"),
("keys-first-line-decides", "serve: keys lines", [
  ("src/ssh/authkeys.rs", "if let Some(first) = key.as_ref().and_then(|k| first_line(&seen, k)) {", "if let Some(first) = key.as_ref().and_then(|k| first_line(&seen, k)).filter(|_| false) {"),
 ], [S+"serve_keys_lines_fail_closed"], "fail"),
("preauth-per-source", "serve: pre-auth limits", [
  ("src/ssh/preauth.rs", "if s.by_source.get(&source).copied().unwrap_or(0) >= self.limits.per_source {", "if false && s.by_source.get(&source).copied().unwrap_or(0) >= self.limits.per_source {"),
 ], [S+"serve_idle_flood_does_not_lock_out_a_pull"], "fail"),
("preauth-max-startups", "serve: pre-auth limits", [
  ("src/ssh/preauth.rs", "if self.limits.early_drop(s.total, roll) {", "if false && self.limits.early_drop(s.total, roll) {"),
 ], [S+"serve_max_startups_caps_unauthenticated"], "fail"),
("preauth-login-grace", "serve: pre-auth limits", [
  ("src/ssh/server.rs", "auth: a.login_grace.min(a.handshake_timeout),", "auth: a.handshake_timeout,"),
 ], [S+"serve_login_grace_time_closes_idle_connections"], "fail"),
("sighup-reload", "serve: signals", [
  ("src/ssh/server.rs", "            _ = sig.hup.recv() => super::reload(&shared),\n", ""),
 ], [S+"serve_sighup_reopens_logs_and_keeps_serving"], "fail"),
("rsa-feature", "serve: RSA keys", [
  ("Cargo.toml", "features = [\"ring\", \"rsa\"]", "features = [\"ring\"]"),
 ], [S+"serve_rsa_key_pulls"], "fail"),
("escape-summary", "operator lines", [
  ("src/audit/mod.rs", "    let v = escape(v);\n", "    let v = std::borrow::Cow::Borrowed(v);\n"),
 ], [S+"serve_log_lines_cannot_be_forged"], "fail"),
("escape-json", "operator lines", [
  ("src/audit/json.rs", "rest.char_indices().find(|(_, c)| is_unsafe(*c))", "rest.char_indices().find(|(_, c)| false && is_unsafe(*c))"),
 ], [S+"serve_log_lines_cannot_be_forged"], "fail"),
]
