//! The message tags a line travels under, at each protocol.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::Link;
use crate::wire::MsgCode;

/// The tags of the frames in `out`.
fn tags(out: &[u8]) -> Vec<u8> {
    let mut tags = Vec::new();
    let mut rest = out;
    while let Some(head) = rest.get(..4) {
        let h = u32::from_le_bytes(head.try_into().unwrap());
        tags.push((h >> 24) as u8 - 7);
        rest = &rest[4 + (h & 0xff_ffff) as usize..];
    }
    tags
}

#[test]
fn below_protocol_30_lines_travel_under_the_tags_a_2_6_client_reads() {
    for (protocol, want) in [
        (29, [1, 2, 1, 86]),
        (27, [1, 2, 1, 86]),
        (30, [3, 4, 3, 86]),
    ] {
        let link = Link::new();
        link.set_who("receiver");
        link.set_multiplexed_out(true);
        link.set_protocol(protocol);
        link.error("an error");
        link.warning("a warning");
        link.fail("refused", 1);
        link.error_going_on("the session goes on");
        let mut out = Vec::new();
        link.take_output(&mut out);
        let going_on = if protocol < 30 { 2 } else { 3 };
        assert_eq!(
            tags(&out),
            [&want[..], &[going_on]].concat(),
            "protocol {protocol}"
        );
    }
    // Before the handshake settles a protocol, tags go as they are.
    let link = Link::new();
    link.set_multiplexed_out(true);
    link.msg(MsgCode::Warning, b"w\n");
    let mut out = Vec::new();
    link.take_output(&mut out);
    assert_eq!(tags(&out), [4]);
}
