//! Handshake byte vectors, as a protocol-32 rsync 3.5 client sees them.

use super::*;

fn run(client: &[u8], req: &HandshakeRequest) -> (Result<Negotiated, HandshakeError>, Vec<u8>) {
    let mut out = Vec::new();
    let r = server_handshake(&mut &client[..], &mut out, req);
    (r, out)
}

#[test]
fn protocol_32_negotiates_xxh128_and_zstd() {
    let mut client = Vec::new();
    client.extend_from_slice(&32i32.to_le_bytes());
    crate::wire::put_vstring(&mut client, b"xxh128 xxh3 xxh64 md5 md4 sha1").unwrap();
    crate::wire::put_vstring(&mut client, b"zstd lz4 zlibx zlib").unwrap();
    let req = HandshakeRequest {
        capabilities: Some("iLsfxCIvu".into()),
        compress: true,
        checksum_seed: Some(7),
        allow_inc_recurse: false,
        ..Default::default()
    };
    let (s, out) = run(&client, &req);
    let s = s.unwrap();
    assert_eq!(s.protocol, 32);
    assert_eq!(s.xfer_checksum.as_deref(), Some("xxh128"));
    assert_eq!(s.compression, Compression::Zstd);
    assert_eq!(&out[..4], &32i32.to_le_bytes());
    // SYMLINK_TIMES|SAFE_FLIST|AVOID_XATTR|SEED_FIX|INPLACE_PARTIAL|VARINT|ID0 = 0x1FA
    assert_eq!(&out[4..6], &[0x81, 0xFA]);
    assert_eq!(&out[out.len() - 4..], &7i32.to_le_bytes());
}

#[test]
fn protocol_29_has_no_flags_or_lists() {
    let client = 29i32.to_le_bytes();
    let req = HandshakeRequest {
        checksum_seed: Some(1),
        allow_inc_recurse: false,
        ..Default::default()
    };
    let (s, out) = run(&client, &req);
    let s = s.unwrap();
    assert_eq!(s.protocol, 29);
    assert_eq!(s.xfer_checksum, None);
    assert_eq!(out.len(), 8);
}

#[test]
fn old_protocol_refused() {
    let (s, _) = run(&26i32.to_le_bytes(), &HandshakeRequest::default());
    assert!(matches!(s, Err(HandshakeError::Version(26))));
}

#[test]
fn choice_prefers_ours() {
    assert_eq!(choose(CHECKSUM_NAMES, b"md4 md5 xxhash"), Some("xxh64"));
    assert_eq!(choose(CHECKSUM_NAMES, b"sha1"), Some("sha1"));
    assert_eq!(choose(CHECKSUM_NAMES, b"sha1 md4"), Some("md4"));
}
