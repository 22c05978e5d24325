//! `--append` and `--append-verify` on push (issue 11), with the files of
//! [`crate::pull::append`]: grown, unchanged, shrunk, a changed prefix
//! and a new file, under `-wo` and with no mode flag, compared with stock
//! `rsync --server` in every client × protocol cell. Under `-wo` an
//! `--append-verify` sends the whole file (the verdict on a prefix the
//! client did not send would reveal it), so the tree still equals
//! stock's while the transfer differs; the verification warning of a
//! changed prefix is checked with no mode flag.

use super::{each_cell, push_vs_stock, Spec};
use crate::harness::Output;
use crate::pull::append::{old_copy, source};
use crate::tree::Cmp;
use std::path::Path;

/// What the client may read about a failed verification.
#[derive(Clone, Copy, PartialEq)]
enum Warn {
    /// The same warning as stock, on the same stream.
    AsStock,
    /// None: under `-wo` the verdict on the server's prefix is not told.
    Never,
}

fn case(opts: &[&str], test: &str, flags: &'static [&'static str], warn: Warn) {
    each_cell(test, |work, cell| {
        let src = work.path("src");
        source(&src);
        let prep = |root: &Path| old_copy(&root.join("dst"));
        let mut spec = Spec::new(opts, &src);
        spec.flags = flags;
        spec.prep = Some(&prep);
        // In append mode rsync writes a new file into a directory after
        // giving the directory its time, with stock as with us: directory
        // times are the time of the run, never equal between two runs.
        spec.cmp = Cmp {
            dir_mtime: false,
            ..Cmp::ALL
        };
        let pair = push_vs_stock(work, cell, &spec)?;
        let said = |s: &str| {
            s.contains("changed.bin failed verification -- update retained (will try again)")
        };
        let (r, o) = (&pair.ref_out, &pair.our_out);
        if warn == Warn::Never && (said(&o.stderr) || said(&o.stdout)) {
            return Err(format!(
                "a -wo push learned that the server's prefix differs\n      {}",
                o.describe()
            ));
        }
        // Stock writes the warning to its stderr; ours goes in the
        // stream, which below protocol 30 carries it as an info line
        // (stdout), the tag a 2.6 client reads: there only its presence
        // is compared.
        let streams = |x: &Output| match cell.protocol() {
            30.. => (said(&x.stderr), said(&x.stdout)),
            _ => (said(&x.all()), false),
        };
        if warn == Warn::AsStock && streams(r) != streams(o) {
            return Err(format!(
                "verification warning differs from stock\n      stock: {}\n      ours: {}",
                pair.ref_out.describe(),
                pair.our_out.describe()
            ));
        }
        pair.remove();
        Ok(())
    });
}

#[test]
fn append_push_matches_stock() {
    // Below protocol 30 a plain --append verifies: -v shows the verdict.
    case(&["-av", "--append"], "push_append", &["-wo"], Warn::Never);
    case(&["-av", "--append"], "push_append_rw", &[], Warn::AsStock);
}

#[test]
fn append_verify_push_matches_stock() {
    case(
        &["-av", "--append-verify"],
        "push_append_verify_wo",
        &["-wo"],
        Warn::Never,
    );
    case(
        &["-av", "--append-verify"],
        "push_append_verify",
        &[],
        Warn::AsStock,
    );
}
