//! What the receiver's file-list budget counts under incremental
//! recursion.

use super::*;
use crate::flist::FlistOptions;

/// The decoder of the next sub-list counts, against the ceiling on
/// entries held at once, the rows the table still holds: a freed list's
/// rows do not count, a directory kept for its sub-list does.
#[test]
fn the_next_decoder_counts_what_the_table_holds() {
    let list = List::new(true);
    let dec = FlistDecoder::new(FlistOptions::default(), FlistLimits::default());
    *list.dec.borrow_mut() = Some(dec);
    for i in 0..5u8 {
        let e = FileEntry::new(vec![b'a' + i], 0o100_644);
        list.push(Rc::new(e), true, false, None);
    }
    {
        let mut table = list.entries.0.borrow_mut();
        table.keep(1);
        table.free_below(3);
    }
    // Rows 3 and 4 live, row 1 kept.
    let d = decoder(&list).expect("a decoder");
    assert_eq!(d.held(), 3);
}
