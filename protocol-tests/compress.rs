//! Compressed transfers (issue 11): pulls and pushes of the small tree
//! with each compression a client can ask for, `-z` (zlib below 30, else
//! negotiated), `--zc=zlibx`, `--zc=zstd` and `--zc=lz4`, every client at
//! every protocol, compared with stock `rsync --server` tree for tree.
//! Stock's client decodes what our sender compressed and our receiver
//! decodes what stock's client compressed. The small tree holds text
//! (several lz4 pieces per file) and random data (which lz4 cannot shrink,
//! so the sender halves its pieces). Delta transfers with each choice are
//! in `pull::delta` and `push::delta`.

use crate::fixtures;
use crate::pull;
use crate::push;
use crate::tree::Cmp;

/// The compression options to try at `protocol`, as stock accepts them.
fn choices(protocol: u32) -> Vec<Vec<&'static str>> {
    let mut v = vec![vec!["-z"]];
    if protocol >= 30 {
        v.push(vec!["--zc=zlibx"]);
        v.push(vec!["--zc=zstd"]);
    }
    v.push(vec!["--zc=lz4"]);
    v
}

#[test]
fn pulls_with_each_compression_match_stock() {
    let fx = fixtures::small();
    pull::each_cell("compress_pull", |work, cell| {
        let mut errs = Vec::new();
        for z in choices(cell.protocol()) {
            let mut opts = vec!["-a"];
            opts.extend(&z);
            let spec = pull::Spec::new(&opts, &["x:dir/"]);
            match pull::pull_vs_stock(work, cell, &fx.root, &spec) {
                Ok(pair) => pair.remove(),
                Err(e) => errs.push(format!("{z:?}: {e}")),
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("\n"))
        }
    });
}

#[test]
fn pushes_with_each_compression_match_stock() {
    let fx = fixtures::small();
    push::each_cell("compress_push", |work, cell| {
        let mut errs = Vec::new();
        for z in choices(cell.protocol()) {
            let mut opts = vec!["-a"];
            opts.extend(&z);
            let mut spec = push::Spec::new(&opts, &fx.dir);
            spec.cmp = Cmp::ALL;
            match push::push_vs_stock(work, cell, &spec) {
                Ok(pair) => pair.remove(),
                Err(e) => errs.push(format!("{z:?}: {e}")),
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("\n"))
        }
    });
}
