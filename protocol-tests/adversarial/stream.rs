//! The test client's reading side: the server's output split into data
//! and messages (rsync's `read_a_msg`), and the library's slice decoders
//! run over it, reading exactly the bytes each decoder still needs. The
//! server has no such blocking reader any more; the tests keep one
//! because a scripted client is simplest written as straight-line code.

use std::io::{self, Read};

use rrsync::flist::{FileEntry, FlistDecoder};
use rrsync::wire::{Decoded, NdxDecoder, Reader, Step};

/// Reads the server's stream; messages are kept aside, the exit message
/// ends the data with an error.
pub struct DemuxReader<R> {
    inner: R,
    multiplexed: bool,
    /// Data bytes left in the current frame.
    remaining: usize,
    /// The text of the messages received so far.
    pub messages: Vec<String>,
}

impl<R: Read> DemuxReader<R> {
    /// A reader that starts unmultiplexed (the handshake is raw).
    pub fn new(inner: R) -> Self {
        DemuxReader {
            inner,
            multiplexed: false,
            remaining: 0,
            messages: Vec::new(),
        }
    }

    /// Turns demultiplexing on or off.
    pub fn set_multiplexed(&mut self, on: bool) {
        self.multiplexed = on;
    }

    /// Reads frame headers until a data frame with payload is current.
    fn next_data_frame(&mut self) -> io::Result<()> {
        while self.remaining == 0 {
            let mut h = [0u8; 4];
            self.inner.read_exact(&mut h)?;
            let tag = u32::from_le_bytes(h);
            let len = (tag & 0x00FF_FFFF) as usize;
            let code = (tag >> 24).wrapping_sub(7);
            if code == 0 {
                self.remaining = len;
                continue;
            }
            let mut payload = vec![0u8; len];
            self.inner.read_exact(&mut payload)?;
            if code == 86 {
                let c = payload.get(..4).map_or(0, |b| {
                    i32::from_le_bytes(<[u8; 4]>::try_from(b).unwrap_or_default())
                });
                return Err(io::Error::other(format!("the server exited with {c}")));
            }
            self.messages
                .push(String::from_utf8_lossy(&payload).into_owned());
        }
        Ok(())
    }
}

impl<R: Read> Read for DemuxReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.multiplexed {
            return self.inner.read(buf);
        }
        self.next_data_frame()?;
        let n = buf.len().min(self.remaining);
        let got = self.inner.read(buf.get_mut(..n).unwrap_or_default())?;
        if got == 0 && n > 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.remaining -= got;
        Ok(got)
    }
}

/// Runs a slice decoder over `r`, reading exactly the bytes it asks for.
pub fn decode<T, E: std::fmt::Debug>(
    r: &mut impl Read,
    mut f: impl FnMut(&mut Reader<'_>) -> Step<T, E>,
) -> Result<T, String> {
    let mut held = Vec::new();
    loop {
        match rrsync::wire::complete(&held, &mut f) {
            Ok(Decoded::Complete { value, .. }) => return Ok(value),
            Ok(Decoded::Incomplete { needed }) => {
                let len = held.len();
                held.resize(len + needed.max(1), 0);
                r.read_exact(held.get_mut(len..).unwrap_or_default())
                    .map_err(|e| e.to_string())?;
            }
            Err(e) => return Err(format!("{e:?}")),
        }
    }
}

/// A little-endian int32.
pub fn get_i32(r: &mut impl Read) -> Result<i32, String> {
    decode(r, |x| x.i32())
}

/// A little-endian 16-bit value.
pub fn get_u16(r: &mut impl Read) -> Result<u16, String> {
    decode(r, |x| x.u16())
}

/// A varint.
pub fn get_varint(r: &mut impl Read) -> Result<i32, String> {
    decode(r, |x| x.varint("a varint"))
}

/// A vstring of at most `max` bytes.
pub fn get_vstring(r: &mut impl Read, max: usize) -> Result<Vec<u8>, String> {
    decode(r, |x| x.vstring(max, "a vstring"))
}

/// A file index.
pub fn get_ndx(dec: &mut NdxDecoder, r: &mut impl Read) -> Result<i32, String> {
    decode(r, |x| dec.decode(x))
}

/// A whole file list, up to its end marker.
pub fn read_list(mut dec: FlistDecoder, r: &mut impl Read) -> Result<Vec<FileEntry>, String> {
    while decode(r, |x| dec.decode_entry(x))?.is_some() {}
    Ok(dec.finish().0)
}
