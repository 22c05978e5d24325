#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::rolling::{checksum1, Rolling};
use proptest::prelude::*;

/// Straight transcription of the definition, one byte at a time.
fn naive(data: &[u8]) -> u32 {
    let (mut s1, mut s2) = (0u32, 0u32);
    for &b in data {
        s1 = s1.wrapping_add(b as i8 as i32 as u32);
        s2 = s2.wrapping_add(s1);
    }
    (s1 & 0xffff) | (s2 << 16)
}

#[test]
fn known_values() {
    assert_eq!(checksum1(b""), 0);
    // "a": s1 = 97, s2 = 97.
    assert_eq!(checksum1(b"a"), 97 | (97 << 16));
    // "abc": s1 = 294, s2 = 97 + 195 + 294 = 586.
    assert_eq!(checksum1(b"abc"), 294 | (586 << 16));
    // Signed bytes: 0xff counts as -1.
    assert_eq!(checksum1(&[0xff]), 0xffff_ffff);
    assert_eq!(checksum1(&[0x80, 0x01]), {
        let s1 = (-128i32 + 1) as u32;
        let s2 = (-128i32 as u32).wrapping_add(s1);
        (s1 & 0xffff) | (s2 << 16)
    });
}

proptest! {
    #[test]
    fn fast_equals_naive(data in proptest::collection::vec(any::<u8>(), 0..3000)) {
        prop_assert_eq!(checksum1(&data), naive(&data));
    }

    #[test]
    fn rolling_equals_recompute(
        data in proptest::collection::vec(any::<u8>(), 1..400),
        win in 1usize..64,
    ) {
        let win = win.min(data.len());
        let mut r = Rolling::new(&data[..win]);
        prop_assert_eq!(r.value(), checksum1(&data[..win]));
        for i in 0..data.len() - win {
            r.roll(data[i], data[i + win]);
            prop_assert_eq!(r.value(), checksum1(&data[i + 1..i + 1 + win]));
        }
        // Shrink the tail down to nothing.
        let start = data.len() - win;
        for i in start..data.len() {
            r.rollout(data[i]);
            prop_assert_eq!(r.value(), checksum1(&data[i + 1..]));
            prop_assert_eq!(r.len() as usize, data.len() - i - 1);
        }
    }
}
