//! The rsync wire codec: integers, multiplexed frames and file indexes.
//!
//! Mirrors rsync's `io.c` (`write_int`, `write_varint`, `write_varlong`,
//! `write_longint`, `write_vstring`, `send_msg`, `read_a_msg`,
//! `write_ndx`/`read_ndx`). Covers protocols 27 to 32: varints and the
//! delta-coded ndx are used from protocol 30, 32-bit ints before it.
//!
//! Encoders append to a `Vec<u8>`. Decoders take a [`Reader`] over bytes
//! and return the value or "incomplete" ([`codec`]); they validate every
//! value before it is used. The `get_*` functions over `std::io::Read` are
//! bridges ([`read_via`]) for the roles that still read from a stream.

mod codec;
mod error;
mod int;
mod mux;
mod ndx;
#[cfg(test)]
mod stream;

pub use codec::{complete, CodecError, Decoded, Fail, Reader, Step};
pub use error::WireError;
#[cfg(test)]
pub use int::{
    get_i32, get_longint, get_u16, get_u8, get_varint, get_varlong, get_varlong30, get_vstring,
    read_via,
};
pub use int::{
    put_i32, put_longint, put_u16, put_varint, put_varlong, put_varlong30, put_vstring, MAX_VSTRING,
};
pub use mux::{frame_head, put_frame, Deframer, Frame, MsgCode, PeerMessage, MAX_FRAME};
pub use ndx::{NdxDecoder, NdxEncoder, NDX_DEL_STATS, NDX_DONE, NDX_FLIST_EOF, NDX_FLIST_OFFSET};
#[cfg(test)]
pub use stream::{read_exact_via, StreamError};
