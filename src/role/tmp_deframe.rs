//! Stand-in for `wire::Deframer` until it lands (removed at the merge).
#![allow(missing_docs)]
use crate::wire::{CodecError, Decoded, MsgCode, PeerMessage};

#[derive(Debug)]
pub enum Frame<'a> {
    Data(&'a [u8]),
    Message(PeerMessage),
}

#[derive(Debug, Default)]
pub struct Deframer {
    mux: bool,
    remaining: usize,
}

impl Deframer {
    pub fn set_multiplexed(&mut self, on: bool) {
        self.mux = on;
    }
    pub fn next<'b>(&mut self, buf: &'b [u8]) -> Result<Decoded<Frame<'b>>, CodecError> {
        if !self.mux || self.remaining > 0 {
            let n = if self.mux {
                self.remaining.min(buf.len())
            } else {
                buf.len()
            };
            if self.mux {
                self.remaining -= n;
            }
            return Ok(Decoded::Complete {
                value: Frame::Data(buf.get(..n).unwrap_or_default()),
                consumed: n,
            });
        }
        let Some(h) = buf.get(..4) else {
            return Ok(Decoded::Incomplete {
                needed: 4 - buf.len(),
            });
        };
        let tag = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
        let len = (tag & 0xFF_FFFF) as usize;
        let code = (tag >> 24)
            .checked_sub(7)
            .ok_or(CodecError::UnexpectedMessage(0xFF))? as u8;
        if code == 0 {
            self.remaining = len;
            return Ok(Decoded::Complete {
                value: Frame::Data(&[]),
                consumed: 4,
            });
        }
        let Some(p) = buf.get(4..4 + len) else {
            return Ok(Decoded::Incomplete {
                needed: 4 + len - buf.len(),
            });
        };
        let int = || p.try_into().ok().map(i32::from_le_bytes);
        let m = match code {
            86 => PeerMessage::Exit(if len == 0 {
                0
            } else {
                int().ok_or(CodecError::OutOfRange("exit"))?
            }),
            42 => {
                return Ok(Decoded::Complete {
                    value: Frame::Data(&[]),
                    consumed: 4,
                })
            }
            1..=8 => PeerMessage::Text(code, p.to_vec()),
            c => return Err(CodecError::UnexpectedMessage(c)),
        };
        Ok(Decoded::Complete {
            value: Frame::Message(m),
            consumed: 4 + len,
        })
    }
}

pub fn put_frame(out: &mut Vec<u8>, code: MsgCode, payload: &[u8]) {
    let tag = ((7 + code as u32) << 24) | payload.len() as u32;
    out.extend_from_slice(&tag.to_le_bytes());
    out.extend_from_slice(payload);
}
