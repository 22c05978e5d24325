//! The link's buffers (rsync's `io.c` in-buffer and out-buffer, without
//! the system calls): room below the watermark and the one-time kick,
//! input frames split into data and out-of-band messages, and the open
//! `MSG_DATA` frame closed with its header. All protocols 27 to 32.

use super::{State, DATA_CHUNK, KICK_AT, MAX_MESSAGES, WATERMARK};
use crate::wire::{frame_head, Decoded, Frame, MsgCode, PeerMessage};

impl State {
    pub(super) fn wants_kick(&self) -> bool {
        self.kick_armed && self.out.len() >= KICK_AT
    }

    pub(super) fn has_room(&self) -> bool {
        self.out.len() < WATERMARK && !self.wants_kick()
    }

    /// Before a role waits for room: a kick is taken (the role goes on
    /// once the driver has the bytes), and the data so far is framed.
    pub(super) fn wait_for_room(&mut self) {
        if self.wants_kick() {
            self.kick_armed = false;
            self.kicked = true;
        }
        self.frame_pending();
    }

    /// Splits one frame (or, unmultiplexed, all of it) off the raw input
    /// into data or a message; `false` when no whole frame is there.
    /// Input is split only as reads need it, as rsync's `read_a_msg`
    /// does: the mode can change between two frames (raw `--files-from`
    /// names follow the framed filter list at protocol 30).
    pub(super) fn deframe_one(&mut self) -> bool {
        let raw = self.raw.get(self.raw_pos..).unwrap_or_default();
        if self.broken.is_some() || raw.is_empty() {
            return false;
        }
        let used = match self.deframer.next(raw) {
            Ok(Decoded::Complete { value, consumed }) => {
                match value {
                    Frame::Data(d) => self.data.extend_from_slice(d),
                    Frame::Message(PeerMessage::Exit(code)) => {
                        self.peer_exit.get_or_insert(code);
                    }
                    Frame::Message(PeerMessage::Success(n)) if self.success_cap > 0 => {
                        if self.successes.len() < self.success_cap {
                            self.successes.push_back(n);
                        }
                    }
                    Frame::Message(m) => {
                        if self.messages.len() >= MAX_MESSAGES {
                            self.messages.pop_front();
                        }
                        self.messages.push_back(m);
                    }
                }
                consumed
            }
            Ok(Decoded::Incomplete { .. }) => return false,
            Err(e) => {
                self.broken = Some(e);
                return false;
            }
        };
        self.raw_pos += used;
        if self.raw_pos == self.raw.len() {
            self.raw.clear();
            self.raw_pos = 0;
        } else if self.raw_pos > DATA_CHUNK && self.raw_pos * 2 > self.raw.len() {
            self.raw.drain(..self.raw_pos);
            self.raw_pos = 0;
        }
        true
    }

    /// Input received and not yet used, framed or not.
    pub(super) fn unread_total(&self) -> usize {
        self.data.len() - self.pos + self.raw.len() - self.raw_pos
    }

    /// Drops used input once it is most of the buffer.
    pub(super) fn compact(&mut self) {
        if self.pos == self.data.len() {
            self.data.clear();
            self.pos = 0;
        } else if self.pos > DATA_CHUNK && self.pos * 2 > self.data.len() {
            self.data.drain(..self.pos);
            self.pos = 0;
        }
    }

    /// Closes the data frame being filled: writes its header, or drops
    /// it if it holds nothing.
    pub(super) fn frame_pending(&mut self) {
        let Some(at) = self.open.take() else {
            return;
        };
        let len = self.out.len().saturating_sub(at + 4);
        if len == 0 {
            self.out.truncate(at);
            return;
        }
        if let Some(h) = self.out.get_mut(at..at + 4) {
            h.copy_from_slice(&frame_head(MsgCode::Data, len));
        }
    }
}
