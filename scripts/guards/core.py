# The sans-IO core (issue 10): what the client said survives the codec.
MUTANTS = [
("peer-exit-in-sums", "Core: the client's exit code while sums are read", [
  ("src/role/sender/send.rs", "        WireError::PeerExit(code) => SendError::Wire(WireError::PeerExit(code)),\n", ""),
 ], [A+"sender::the_clients_exit_code_survives_while_sums_are_read"], "fail"),
]
