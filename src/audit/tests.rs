//! Unit tests of the audit records, time format and sink.

use super::*;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::UNIX_EPOCH;

#[test]
fn dates() {
    assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    let t = UNIX_EPOCH + Duration::from_secs(1_709_210_096);
    assert_eq!(rfc3339(t), "2024-02-29T12:34:56.000Z");
    let t = t + Duration::from_micros(7_999);
    assert_eq!(rfc3339(t), "2024-02-29T12:34:56.007Z");
    assert_eq!(
        rfc3339(UNIX_EPOCH - Duration::from_secs(1)),
        "1969-12-31T23:59:59.000Z"
    );
}

#[test]
fn json_escapes() {
    let mut r = Record::start("serve");
    r.command = Some("rsync \"x\"\n\u{1}".into());
    r.key = Some("SHA256:x me\u{7f}\u{9b}\u{2028}\u{202e}é".into());
    r.refuse("a");
    r.refuse("b");
    r.finish(Some(1));
    let j = r.to_json();
    assert!(j.contains(r#""command":"rsync \"x\"\n\u0001""#), "{j}");
    assert!(j.contains(r#""refused":"a; b""#), "{j}");
    assert!(j.contains(r#""outcome":"refused""#), "{j}");
    assert!(j.contains(r#""exit":1"#), "{j}");
    assert!(
        j.contains(r#""key":"SHA256:x me\u007f\u009b\u2028\u202eé""#),
        "{j}"
    );
    let back: serde_json::Value = serde_json::from_str(&j).unwrap();
    assert_eq!(back["key"].as_str(), r.key.as_deref());
    assert_eq!(back["command"].as_str(), r.command.as_deref());
}

/// A record with every field set.
fn full() -> Record {
    let mut r = Record::start("sshd");
    r.key = Some("k".into());
    r.user = Some("u".into());
    r.remote = Some("r".into());
    r.mode = Some("ro");
    r.root = Some("/".into());
    r.set_command("rsync --server --sender . x");
    r.refuse("no");
    r.landlock = Some("on");
    r.transfer = Some(Transfer {
        files_sent: 1,
        added: 1,
        snapshot: Some("2026-12-04T220000Z".into()),
        ..Transfer::default()
    });
    r.finish(Some(0));
    r
}

/// The field names of a JSON line, in order.
fn names(line: &str) -> Vec<String> {
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line).unwrap();
    let mut found: Vec<(usize, String)> = map
        .keys()
        .map(|k| (line.find(&format!("\"{k}\":")).unwrap(), k.clone()))
        .collect();
    found.sort();
    found.into_iter().map(|(_, k)| k).collect()
}

#[test]
fn fields_are_in_order_and_documented() {
    let fields: Vec<&str> = FIELD_DOCS.iter().map(|(f, _)| *f).collect();
    assert_eq!(names(&full().to_json()), fields);
    let bare = Record::start("serve").to_json();
    assert_eq!(names(&bare), ["time", "via", "outcome"]);
    // The manual's AUDIT LOG section and the operator guide's field list
    // name the same fields in the same order.
    let root = env!("CARGO_MANIFEST_DIR");
    for (doc, start) in [
        ("docs/rrsync-rs.1.md", "# AUDIT LOG"),
        ("docs/operator-guide.md", "### Audit fields"),
    ] {
        let text = std::fs::read_to_string(format!("{root}/{doc}")).unwrap();
        let at = text
            .find(start)
            .unwrap_or_else(|| panic!("{doc}: no {start}"));
        let section = &text[at + start.len()..];
        let end = section.find("\n#").unwrap_or(section.len());
        let listed: Vec<&str> = section[..end]
            .lines()
            .filter_map(|l| l.strip_prefix("- `"))
            .filter_map(|l| l.split('`').next())
            .collect();
        assert_eq!(listed, fields, "{doc}");
    }
}

#[test]
fn the_refusal_is_the_drivers() {
    let mut r = Record::start("sshd");
    r.set_command("rsync --server -logDtpre.iLsfxCIvu . dir/");
    assert_eq!((r.role, r.refused.as_deref()), (Some("receiver"), None));
    r.served(&Served {
        code: 1,
        refused: Some("sending to read-only server is not allowed".into()),
        ..Served::default()
    });
    assert!(r.refused.as_deref().unwrap().contains("read-only"));
    assert_eq!(r.transfer, None);
    let mut r = Record::start("sshd");
    r.set_command("ls");
    assert_eq!(r.role, None);
    let mut r = Record::start("sshd");
    r.set_command("rsync --server --sender -logDtpre.iLsfxCIvu . dir/");
    let moved = Transfer {
        files_sent: 2,
        ..Transfer::default()
    };
    r.served(&Served {
        code: 0,
        transfer: moved.clone(),
        refused: None,
    });
    assert_eq!(
        (r.role, r.refused, r.transfer),
        (Some("sender"), None, Some(moved))
    );
}

#[test]
fn flag_is_taken_anywhere_in_the_forced_form() {
    let mut a: Vec<OsString> = ["-ro", "-audit", "/l", "/srv"]
        .iter()
        .map(OsString::from)
        .collect();
    assert_eq!(take_flag(&mut a), Some(PathBuf::from("/l")));
    assert_eq!(a, ["-ro", "/srv"]);
    let mut a: Vec<OsString> = ["local", "-audit", "-", "/srv", "h", "-audit", "x"]
        .iter()
        .map(OsString::from)
        .collect();
    assert_eq!(take_flag(&mut a), Some(PathBuf::from("-")));
    assert_eq!(a, ["local", "/srv", "h", "-audit", "x"]);
    // After DIR, like rrsync's own flags (a key line with `-audit` appended).
    let mut a: Vec<OsString> = ["-ro", "/srv", "-no-del", "-audit", "/l"]
        .iter()
        .map(OsString::from)
        .collect();
    assert_eq!(take_flag(&mut a), Some(PathBuf::from("/l")));
    assert_eq!(a, ["-ro", "/srv", "-no-del"]);
    let mut a: Vec<OsString> = ["serve", "-audit", "x"]
        .iter()
        .map(OsString::from)
        .collect();
    assert_eq!(take_flag(&mut a).filter(|p| p == "x"), None);
}

#[test]
fn open_refuses_symlink() {
    let d = std::env::temp_dir().join(format!("rrsync-audit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", d.join("link")).unwrap();
    assert!(open_append(&d.join("link")).is_err());
    let sink = Sink::open(Some(&d.join("log.jsonl")), false).unwrap();
    sink.write(&Record::start("serve"));
    let text = std::fs::read_to_string(d.join("log.jsonl")).unwrap();
    assert_eq!(text.lines().count(), 1);
    let _ = std::fs::remove_dir_all(&d);
}
