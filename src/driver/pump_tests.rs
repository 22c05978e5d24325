//! The pump over real pipes, with a toy session: the pump moves bytes
//! both ways, stops at the session's end, and gives up at its deadline.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use super::run;
use crate::role::{Link, Machine, Outcome};
use crate::wire::{Reader, Step};

fn int(r: &mut Reader<'_>) -> Step<i32> {
    Ok(i32::from_le_bytes(r.array::<4>()?))
}

async fn echo_sum(link: Link, n: usize) -> Outcome {
    let mut sum = 0i64;
    for _ in 0..n {
        match link.read("an integer", int).await {
            Ok(v) => {
                sum += i64::from(v);
                link.room().await;
                link.write(&[1u8; 1000]);
            }
            Err(_) => {
                return Outcome {
                    code: 12,
                    ..Outcome::default()
                }
            }
        }
    }
    Outcome {
        code: i32::try_from(sum % 100).unwrap_or(0),
        ..Outcome::default()
    }
}

#[test]
fn moves_bytes_both_ways_until_the_end() {
    for nonblocking in [true, false] {
        let (srv_in, mut cli_out) = std::io::pipe().unwrap();
        let (mut cli_in, srv_out) = std::io::pipe().unwrap();
        let stderr = std::io::stderr();
        let nb =
            super::super::stdio::NonBlocking::set(srv_in.as_fd(), srv_out.as_fd(), stderr.as_fd());
        let client = std::thread::spawn(move || {
            for v in 0..2000i32 {
                cli_out.write_all(&v.to_le_bytes()).unwrap();
            }
            drop(cli_out);
            let mut got = Vec::new();
            cli_in.read_to_end(&mut got).unwrap();
            got.len()
        });
        let mut m = Machine::new(Instant::now(), |l| echo_sum(l, 2000));
        let o = run(
            &mut m,
            srv_in.as_fd(),
            srv_out.as_fd(),
            nonblocking && nb.is_on(),
        );
        // The saved flags hold a duplicate of the descriptors: drop both
        // so that the client sees the end.
        drop(nb);
        drop(srv_out);
        assert_eq!(
            o.code,
            i32::try_from((0..2000i64).sum::<i64>() % 100).unwrap()
        );
        assert_eq!(client.join().unwrap(), 2000 * 1000);
    }
}

#[test]
fn a_silent_client_times_out() {
    let (srv_in, cli_out) = std::io::pipe().unwrap();
    let (_cli_in, srv_out) = std::io::pipe().unwrap();
    let mut m = Machine::new(Instant::now(), |l| async move {
        l.set_idle_limit(Duration::from_millis(200));
        echo_sum(l, 1).await
    });
    let t = Instant::now();
    let o = run(&mut m, srv_in.as_fd(), srv_out.as_fd(), false);
    assert_eq!(o.code, 30);
    assert!(t.elapsed() < Duration::from_secs(5));
    drop(cli_out);
}
