//! `--bwlimit` on pull: the client passes its limit to the server, and
//! the server, which sends the data, keeps to it (`sleep_for_bwlimit` in
//! rsync's `io.c`). A 512 KiB file at 256 KiB/s takes about two seconds
//! from stock; from ours too, and it arrives whole. The check is a floor
//! (at least 1.2 s), so a slow machine cannot fail it; a server that
//! ignores the limit sends the file in a few milliseconds. Each client at
//! its own protocol; the same pull runs against stock first.

use crate::fixtures::Rng;
use crate::harness::{self, ensure, rsync, Report, Server, Work};
use std::time::{Duration, Instant};

const SIZE: usize = 512 << 10;
const FLOOR: Duration = Duration::from_millis(1_200);

#[test]
fn pull_keeps_to_the_clients_bwlimit() {
    let work = Work::new("pull_bwlimit");
    let data = Rng::new(7).bytes(SIZE);
    let src = work.path("root/dir");
    std::fs::create_dir_all(&src).expect("mkdir src");
    std::fs::write(src.join("f.bin"), &data).expect("write f.bin");
    let mut rep = Report::new();
    for cell in crate::push::util::native_cells() {
        let run = |server: &Server, tag: &str| -> Result<(), String> {
            let dst = work.path(&format!("{tag}-{}", cell.label()));
            let args = harness::args(&[
                "-a",
                "--bwlimit=256",
                "x:dir/",
                &format!("{}/", dst.display()),
            ]);
            let t0 = Instant::now();
            let out = rsync(&cell, &server.rsh(&work), &args);
            let took = t0.elapsed();
            ensure(out.code == Some(0), &format!("{tag}: pull failed"), &out)?;
            let got = std::fs::read(dst.join("f.bin")).unwrap_or_default();
            ensure(got == data, &format!("{tag}: f.bin differs"), &out)?;
            ensure(
                took >= FLOOR,
                &format!("{tag}: 512 KiB at 256 KiB/s took {took:?}: the limit was not kept"),
                &out,
            )
        };
        let root = work.dir.join("root");
        let r = run(&Server::stock(&root), "stock")
            .map_err(|e| format!("STOCK BASELINE: {e}"))
            .and_then(|()| run(&Server::tested(&["-ro"], &root), "ours"));
        rep.check(&cell.label(), r);
    }
    rep.finish("pull_bwlimit");
}
