//! The machine on a fake clock: a toy session that reads 4-byte
//! integers and answers each with its double, driven in process with no
//! processes and no sleeps.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use crate::role::link::Link;
use crate::role::machine::{Machine, Outcome, DRAIN, START_LIMIT};
use crate::wire::{MsgCode, Reader, Step, WireError};

fn int(r: &mut Reader<'_>) -> Step<i32> {
    Ok(i32::from_le_bytes(r.array::<4>()?))
}

/// Reads `n` integers and answers each; exit code = how it ended.
async fn doubler(link: Link, n: usize, mux: bool) -> Outcome {
    link.set_who("sender");
    if mux {
        link.set_multiplexed_out(true);
        link.set_multiplexed_in(true);
    }
    for _ in 0..n {
        match link.read("an integer", int).await {
            Ok(v) => link.write(&(v * 2).to_le_bytes()),
            Err(WireError::PeerExit(c)) => return outcome(c),
            Err(_) => return outcome(12),
        }
    }
    link.flush();
    outcome(0)
}

fn outcome(code: i32) -> Outcome {
    Outcome {
        code,
        ..Outcome::default()
    }
}

fn frame(code: u8, payload: &[u8]) -> Vec<u8> {
    let tag = ((7 + u32::from(code)) << 24) | payload.len() as u32;
    let mut v = tag.to_le_bytes().to_vec();
    v.extend_from_slice(payload);
    v
}

#[test]
fn any_split_of_the_input_gives_the_same_answers() {
    let input: Vec<u8> = (1..=5i32).flat_map(|v| v.to_le_bytes()).collect();
    let expect: Vec<u8> = (1..=5i32).flat_map(|v| (v * 2).to_le_bytes()).collect();
    for step in 1..=input.len() {
        let t0 = Instant::now();
        let mut m = Machine::new(t0, |l| doubler(l, 5, false));
        let mut out = Vec::new();
        for chunk in input.chunks(step) {
            assert_eq!(m.handle_input(t0, chunk), chunk.len());
            m.poll_transmit(t0, &mut out);
        }
        assert_eq!(m.outcome().map(|o| o.code), Some(0), "split {step}");
        assert_eq!(out, expect, "split {step}");
        assert!(m.is_done(false));
    }
}

#[test]
fn a_truncated_input_is_an_error_at_every_byte() {
    let input: Vec<u8> = (1..=3i32).flat_map(|v| v.to_le_bytes()).collect();
    for cut in 0..input.len() {
        let t0 = Instant::now();
        let mut m = Machine::new(t0, |l| doubler(l, 3, false));
        m.handle_input(t0, input.get(..cut).unwrap());
        assert!(m.outcome().is_none());
        m.handle_eof(t0);
        assert_eq!(m.outcome().map(|o| o.code), Some(12), "cut at {cut}");
    }
}

#[test]
fn the_clients_exit_code_survives_a_read() {
    // The client's exit message arrives while the session waits inside a
    // value: the session ends with the client's code, not a protocol error.
    let t0 = Instant::now();
    let mut m = Machine::new(t0, |l| doubler(l, 2, true));
    let mut input = frame(0, &7i32.to_le_bytes()[..2]);
    input.extend(frame(86, &23i32.to_le_bytes()));
    m.handle_input(t0, &input);
    assert_eq!(m.outcome().map(|o| o.code), Some(23));
}

#[test]
fn data_before_an_exit_message_is_still_read() {
    let t0 = Instant::now();
    let mut m = Machine::new(t0, |l| doubler(l, 2, true));
    let mut input = frame(0, &7i32.to_le_bytes());
    input.extend(frame(86, &23i32.to_le_bytes()));
    m.handle_input(t0, &input);
    let mut out = Vec::new();
    m.poll_transmit(t0, &mut out);
    assert_eq!(m.outcome().map(|o| o.code), Some(23));
    assert_eq!(out, frame(0, &14i32.to_le_bytes()));
}

#[test]
fn silence_times_out_at_the_idle_limit() {
    let t0 = Instant::now();
    let mut m = Machine::new(t0, |l| doubler(l, 1, true));
    assert_eq!(m.poll_timeout(), Some(t0 + START_LIMIT));
    m.handle_timeout(t0 + START_LIMIT - Duration::from_millis(1), false);
    assert!(m.outcome().is_none());
    m.handle_timeout(t0 + START_LIMIT, false);
    let o = m.outcome().unwrap();
    assert_eq!(o.code, 30);
    assert_eq!(
        o.timed_out.as_deref(),
        Some("timeout: no data from the client for 60 seconds")
    );
    // The client hears why: an error line and the exit message.
    let mut out = Vec::new();
    m.poll_transmit(t0 + START_LIMIT, &mut out);
    let line = b"rsync: [sender] timeout: no data from the client for 60 seconds\n";
    let mut expect = frame(3, line);
    expect.extend(frame(86, &30i32.to_le_bytes()));
    assert_eq!(out, expect);
}

#[test]
fn input_moves_the_deadline() {
    let t0 = Instant::now();
    let mut m = Machine::new(t0, |l| doubler(l, 2, false));
    let t1 = t0 + Duration::from_secs(50);
    m.handle_input(t1, &[1, 0]);
    assert_eq!(m.poll_timeout(), Some(t1 + START_LIMIT));
}

/// Writes `n` chunks of 64 KiB, waiting for room before each.
async fn flood(link: Link, n: usize) -> Outcome {
    link.set_multiplexed_out(true);
    for _ in 0..n {
        link.room().await;
        link.write(&[7u8; 64 * 1024]);
    }
    outcome(0)
}

#[test]
fn output_waits_below_the_watermark() {
    let t0 = Instant::now();
    let mut m = Machine::new(t0, |l| flood(l, 100));
    // Without a reader, the session stops producing near the watermark.
    assert!(m.outcome().is_none());
    let held = m.link().bytes_out();
    assert!(held < 512 * 1024, "{held}");
    // A client that never reads: the write deadline ends it.
    m.handle_timeout(t0 + START_LIMIT, true);
    assert_eq!(m.outcome().map(|o| o.code), Some(30));
    assert_eq!(
        m.outcome().unwrap().timed_out.as_deref(),
        Some("timeout: the client read nothing for 60 seconds")
    );
    // Draining lets it finish.
    let mut m = Machine::new(t0, |l| flood(l, 100));
    let mut total = 0;
    while m.outcome().is_none() {
        let mut out = Vec::new();
        total += m.poll_transmit(t0, &mut out);
    }
    total += m.poll_transmit(t0, &mut Vec::new());
    assert!(total > 100 * 64 * 1024);
}

#[test]
fn a_finished_session_drains_then_stops() {
    let t0 = Instant::now();
    let mut m = Machine::new(t0, |l| flood(l, 1));
    assert_eq!(m.outcome().map(|o| o.code), Some(0));
    assert!(!m.is_done(false), "output still waits");
    assert_eq!(m.poll_timeout(), Some(t0 + DRAIN));
    m.handle_timeout(t0 + DRAIN, true);
    assert!(m.is_done(true));
}

#[test]
fn messages_are_split_off_and_kept() {
    let t0 = Instant::now();
    let mut m = Machine::new(t0, |l| doubler(l, 1, true));
    let mut input = frame(2, b"hello\n");
    input.extend(frame(42, b""));
    input.extend(frame(0, &1i32.to_le_bytes()));
    m.handle_input(t0, &input);
    assert_eq!(m.outcome().map(|o| o.code), Some(0));
    let msgs = m.link().take_messages();
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    let _ = MsgCode::Info;
}

/// Protocol-31 file-list options with varint flags, as a `v` client.
fn flist_opts() -> crate::flist::FlistOptions {
    crate::flist::FlistOptions {
        protocol: 31,
        varint_flags: true,
        preserve_uid: true,
        preserve_gid: true,
        preserve_links: true,
        preserve_devices: false,
        preserve_specials: false,
        preserve_hard_links: false,
        checksum_len: None,
        numeric_ids: true,
        inc_recurse: false,
        safe_flist: true,
        preserve_atimes: false,
        meta: Default::default(),
    }
}

/// A list of three entries and its end marker, as our sender encodes it.
fn flist_bytes() -> (Vec<u8>, Vec<crate::flist::FileEntry>) {
    use crate::flist::{EntryFlags, FileEntry, FlistEncoder};
    let mut root = FileEntry::new(b".".to_vec(), 0o040755);
    root.mtime = 1_700_000_000;
    root.flags = EntryFlags {
        top_dir: true,
        content_dir: true,
        implied_dir: false,
    };
    let mut file = FileEntry::new(b"a-file".to_vec(), 0o100644);
    file.size = 1 << 33;
    file.mtime = 1_700_000_001;
    file.mtime_nsec = 5;
    file.uid = 1000;
    let mut link = FileEntry::new(b"a-link".to_vec(), 0o120777);
    link.link_target = Some(b"a-file".to_vec());
    link.size = 6;
    let entries = vec![root, file, link];
    let mut enc = FlistEncoder::new(flist_opts());
    let mut out = Vec::new();
    for e in &entries {
        enc.encode(e, &mut out, &mut |_| None, &mut |_| None);
    }
    enc.end(&mut out, 0);
    (out, entries)
}

/// Reads a file list entry by entry through the link; the names land in
/// `names`, the exit code says how the read ended: 0 at the end marker,
/// 2 for a refused entry, the client's code for its exit message, 12 for
/// the end of input.
async fn flist_reader(
    link: Link,
    mux: bool,
    names: std::rc::Rc<std::cell::RefCell<Vec<Vec<u8>>>>,
) -> Outcome {
    use crate::flist::{FlistDecoder, FlistError, FlistLimits};
    if mux {
        link.set_multiplexed_in(true);
    }
    let mut d = FlistDecoder::new(flist_opts(), FlistLimits::default());
    loop {
        match link.read("the file list", |r| d.decode_entry(r)).await {
            Ok(Some(e)) => names.borrow_mut().push(e.name),
            Ok(None) => return outcome(0),
            Err(FlistError::Invalid(_) | FlistError::Budget(_)) => return outcome(2),
            Err(FlistError::Wire(WireError::PeerExit(c))) => return outcome(c),
            Err(FlistError::Wire(_)) => return outcome(12),
        }
    }
}

#[test]
fn a_file_list_reads_through_the_link_in_any_split() {
    let (input, entries) = flist_bytes();
    let want: Vec<Vec<u8>> = entries.iter().map(|e| e.name.clone()).collect();
    // Even splits, then odd ones: pieces of 1, 2, 3, 5, 8, ... bytes.
    let mut splits: Vec<Vec<usize>> = (1..=input.len()).map(|n| vec![n]).collect();
    splits.push(vec![1, 2, 3, 5, 8, 13, 21]);
    splits.push(vec![7, 1, 1, 4, 9, 2]);
    for sizes in splits {
        let t0 = Instant::now();
        let names = std::rc::Rc::default();
        let got = std::rc::Rc::clone(&names);
        let mut m = Machine::new(t0, |l| flist_reader(l, false, names));
        let mut rest = &input[..];
        for &n in sizes.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (head, tail) = rest.split_at(n.min(rest.len()));
            assert_eq!(m.handle_input(t0, head), head.len());
            rest = tail;
        }
        assert_eq!(m.outcome().map(|o| o.code), Some(0), "split {sizes:?}");
        assert_eq!(*got.borrow(), want, "split {sizes:?}");
    }
}

#[test]
fn a_file_list_read_ends_with_the_right_error() {
    let (input, _) = flist_bytes();
    // Cut inside the list: the end of input, after the entries before it.
    for cut in 0..input.len() {
        let t0 = Instant::now();
        let mut m = Machine::new(t0, |l| flist_reader(l, false, Default::default()));
        m.handle_input(t0, &input[..cut]);
        assert!(m.outcome().is_none(), "cut {cut}");
        m.handle_eof(t0);
        assert_eq!(m.outcome().map(|o| o.code), Some(12), "cut {cut}");
    }
    // The client's exit message inside an entry keeps the client's code.
    let t0 = Instant::now();
    let mut m = Machine::new(t0, |l| flist_reader(l, true, Default::default()));
    let mut bytes = frame(0, &input[..5]);
    bytes.extend(frame(86, &23i32.to_le_bytes()));
    m.handle_input(t0, &bytes);
    assert_eq!(m.outcome().map(|o| o.code), Some(23));
    // An unsafe name is the decoder's own error, not a wire error.
    let mut bad = Vec::new();
    let mut enc = crate::flist::FlistEncoder::new(flist_opts());
    let e = crate::flist::FileEntry::new(b"../escape".to_vec(), 0o100644);
    enc.encode(&e, &mut bad, &mut |_| None, &mut |_| None);
    let mut m = Machine::new(t0, |l| flist_reader(l, false, Default::default()));
    m.handle_input(t0, &bad);
    assert_eq!(m.outcome().map(|o| o.code), Some(2));
}

/// Input that arrived before the switch to multiplexed input, all in one
/// piece, is split into frames once the switch is made: the handshake's
/// bytes and the first frames often come in one read.
#[test]
fn input_read_ahead_of_the_switch_to_frames_is_deframed() {
    async fn switcher(link: Link) -> Outcome {
        let first = link.read("an integer", int).await;
        link.set_multiplexed_in(true);
        let second = link.read("an integer", int).await;
        match (first, second) {
            (Ok(1), Ok(2)) => outcome(0),
            _ => outcome(2),
        }
    }
    let mut input = 1i32.to_le_bytes().to_vec();
    input.extend(frame(0, &2i32.to_le_bytes()));
    let t0 = Instant::now();
    let mut m = Machine::new(t0, switcher);
    m.handle_input(t0, &input);
    assert_eq!(m.outcome().map(|o| o.code), Some(0));
}

/// Fills the outbox past its watermark, then waits for input or room:
/// 1 when room came, 2 when input did, 3 when the input ended.
async fn input_or_room(link: Link) -> Outcome {
    link.write(&vec![0u8; 300 * 1024]);
    assert!(!link.has_room());
    link.wait_input_or_room().await;
    outcome(if link.input_ended() {
        3
    } else if link.has_room() {
        1
    } else {
        2
    })
}

#[test]
fn waiting_for_input_or_room_ends_with_either() {
    let t0 = Instant::now();
    let mut m = Machine::new(t0, input_or_room);
    assert!(m.outcome().is_none());
    m.handle_input(t0, b"x");
    assert_eq!(m.outcome().map(|o| o.code), Some(2));

    let mut m = Machine::new(t0, input_or_room);
    let mut out = Vec::new();
    assert_eq!(m.poll_transmit(t0, &mut out), 300 * 1024);
    assert_eq!(m.outcome().map(|o| o.code), Some(1));

    let mut m = Machine::new(t0, input_or_room);
    m.handle_eof(t0);
    assert_eq!(m.outcome().map(|o| o.code), Some(3));
}

/// Output the client does not take gives up after the limit however
/// much the client sends meanwhile: its bytes move the read deadline,
/// not the write deadline.
#[test]
fn a_client_that_sends_but_never_reads_times_out() {
    let t0 = Instant::now();
    let mut m = Machine::new(t0, |l| flood(l, 100));
    for s in [10, 20, 30, 40, 50] {
        m.handle_input(t0 + Duration::from_secs(s), b"keep-alive");
        m.handle_timeout(t0 + Duration::from_secs(s), true);
        assert!(m.outcome().is_none(), "gave up at {s} s");
    }
    m.handle_timeout(t0 + START_LIMIT, true);
    assert_eq!(m.outcome().map(|o| o.code), Some(30));
    assert_eq!(
        m.outcome().unwrap().timed_out.as_deref(),
        Some("timeout: the client read nothing for 60 seconds")
    );
}

/// After reading one byte, writes `chunks` KiB a KiB at a time, minding
/// the outbox as the sender does between files.
async fn burst(link: Link, chunks: usize) -> Outcome {
    if link.read("a byte", |r| r.array::<1>()).await.is_err() {
        return outcome(12);
    }
    for i in 0..chunks {
        link.write(&[i as u8; 1024]);
        if !link.has_room() {
            link.room().await;
        }
    }
    link.flush();
    outcome(0)
}

/// Drives a role that writes 100 KiB after one byte of input, as the
/// pump does: an idle ask for output, the byte, the deadline check that
/// follows each read, the first take, the resume, the rest. The first
/// take must hold 8 to 16 KiB (the first file of a large pull leaves
/// before the role produces the rest), and the role must be resumable
/// at once, with no deadline to wait for.
fn first_then_rest(mut m: Machine<'_>, t0: Instant) {
    let mut out = Vec::new();
    assert_eq!(m.poll_transmit(t0, &mut out), 0, "nothing before the byte");
    m.handle_input(t0, b"!");
    // The deadline check after a read must not let the role run on with
    // its first bytes unsent.
    m.handle_timeout(t0, false);
    let first = m.poll_transmit(t0, &mut out);
    assert!(
        (8 * 1024..16 * 1024).contains(&first),
        "first {first} bytes"
    );
    assert!(m.poll_timeout().is_some_and(|t| t <= t0));
    m.handle_timeout(t0, true);
    // The rest leaves a watermark's worth per take.
    let mut rest = 0;
    for _ in 0..100 {
        out.clear();
        match m.poll_transmit(t0, &mut out) {
            0 => break,
            n => rest += n,
        }
    }
    assert_eq!(first + rest, 100 * 1024);
    assert_eq!(m.outcome().map(|o| o.code), Some(0));
}

/// `room` pauses once at 8 KiB after the driver was idle.
#[test]
fn first_bytes_after_idle_leave_at_once() {
    let t0 = Instant::now();
    first_then_rest(Machine::new(t0, |l| burst(l, 100)), t0);
}

/// The receiver's shape: produce while there is room, else wait for
/// input or room. Exit code 99 if that wait ever returned with neither
/// (the loop would spin).
async fn stepper(link: Link, kib: usize) -> Outcome {
    if link.read("a byte", |r| r.array::<1>()).await.is_err() {
        return outcome(12);
    }
    let (mut made, mut idle_wakes) = (0, 0);
    while made < kib {
        let before = made;
        while made < kib && link.has_room() {
            link.write(&[0u8; 1024]);
            made += 1;
        }
        link.wait_input_or_room().await;
        if made == before && !link.has_room() {
            idle_wakes += 1;
            if idle_wakes > 100 {
                return outcome(99);
            }
        }
    }
    link.flush();
    outcome(0)
}

/// Waiting for input or room pauses at the same first 8 KiB as `room`.
#[test]
fn input_or_room_pauses_for_the_first_bytes_too() {
    let t0 = Instant::now();
    first_then_rest(Machine::new(t0, |l| stepper(l, 100)), t0);
}

/// A role that writes a little, hands it over, then writes the rest
/// (the sender's delta search between tokens). Code 0 once done.
async fn small_then_hand_over(link: Link) -> Outcome {
    if link.read("a byte", |r| r.array::<1>()).await.is_err() {
        return outcome(12);
    }
    link.write(b"tokens");
    link.hand_over().await;
    link.write(b"more");
    link.flush();
    outcome(0)
}

/// Handed-over bytes leave before the role goes on, and the role goes on
/// as soon as they are taken, with no deadline to wait for; with nothing
/// written a hand-over does not pause at all.
#[test]
fn handed_over_bytes_leave_before_the_role_goes_on() {
    let t0 = Instant::now();
    let mut m = Machine::new(t0, small_then_hand_over);
    let mut out = Vec::new();
    // The driver took output since the start: no first-bytes pause.
    m.handle_input(t0, b"!");
    assert!(
        m.outcome().is_none(),
        "the role went on before the bytes left"
    );
    assert!(m.poll_timeout().is_some_and(|t| t > t0));
    assert_eq!(m.poll_transmit(t0, &mut out), 6);
    assert!(m.poll_timeout().is_some_and(|t| t <= t0));
    m.handle_timeout(t0, false);
    out.clear();
    assert_eq!(m.poll_transmit(t0, &mut out), 4);
    assert_eq!(m.outcome().map(|o| o.code), Some(0));

    let mut m = Machine::new(t0, |l: Link| async move {
        l.hand_over().await;
        outcome(0)
    });
    m.handle_input(t0, b"!");
    assert_eq!(m.outcome().map(|o| o.code), Some(0));
}
