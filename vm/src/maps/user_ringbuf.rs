//! `BPF_MAP_TYPE_USER_RINGBUF` (`kernel/bpf/ringbuf.c`): a ring buffer that user space
//! fills ([`Map::user_ringbuf_push`], as libbpf's `user_ring_buffer__reserve`/`__submit`)
//! and a program drains with `bpf_user_ringbuf_drain`.

use std::collections::VecDeque;

use super::{inval, Map, MapError, Store, RINGBUF_HDR};

/// How user space left a record in a user ring buffer (the header's bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserRecordState {
    /// Submitted (`user_ring_buffer__submit`): the program sees it.
    Submitted,
    /// Discarded (`user_ring_buffer__discard`, `BPF_RINGBUF_DISCARD_BIT`): skipped.
    Discarded,
    /// Reserved, not yet submitted (`BPF_RINGBUF_BUSY_BIT`): draining stops before it.
    Busy,
}

/// A user ring buffer's records between the consumer and producer positions.
#[derive(Clone, Debug, Default)]
pub(crate) struct UserRing {
    records: VecDeque<(Vec<u8>, UserRecordState)>,
    /// `producer_pos - consumer_pos`: the bytes the records take with their headers.
    used: usize,
}

/// A record's room in the ring: `round_up(len + BPF_RINGBUF_HDR_SZ, 8)`.
pub(crate) fn total_len(len: usize) -> usize {
    (len + RINGBUF_HDR).div_ceil(8) * 8
}

impl UserRing {
    /// Records not consumed (discarded and busy ones included).
    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    /// The oldest record, not consumed.
    pub(crate) fn front(&self) -> Option<&(Vec<u8>, UserRecordState)> {
        self.records.front()
    }

    /// Consumes the oldest record (`__bpf_user_ringbuf_sample_release`, or the skip of a
    /// discarded one in `__bpf_user_ringbuf_peek`).
    pub(crate) fn release(&mut self) {
        if let Some((bytes, _)) = self.records.pop_front() {
            self.used -= total_len(bytes.len());
        }
    }
}

impl Map {
    /// Writes a record into a user ring buffer as user space does: the payload `bytes`
    /// after an 8-byte header, the whole rounded up to 8 bytes. `E2BIG` when the record
    /// could never fit (libbpf's `user_ring_buffer__reserve`: larger than the data area less
    /// one header), [`MapError::NoSpace`] when it does not fit until the program drains.
    pub fn user_ringbuf_push(
        &mut self,
        bytes: &[u8],
        state: UserRecordState,
    ) -> Result<(), MapError> {
        let cap = self.spec.max_entries as usize;
        let Store::UserRing(ring) = &mut self.store else {
            return inval(format!(
                "{} maps take no user space records (a user_ringbuf map does)",
                self.spec.map_type.name()
            ));
        };
        if bytes.len() > cap - RINGBUF_HDR {
            return Err(MapError::Full);
        }
        let need = total_len(bytes.len());
        if need > cap - ring.used {
            return Err(MapError::NoSpace);
        }
        ring.used += need;
        ring.records.push_back((bytes.to_vec(), state));
        Ok(())
    }

    /// The records user space wrote that no program has consumed, oldest first.
    pub fn user_ringbuf_pending(&self) -> Vec<(Vec<u8>, UserRecordState)> {
        match &self.store {
            Store::UserRing(ring) => ring.records.iter().cloned().collect(),
            _ => Vec::new(),
        }
    }

    pub(crate) fn user_ring_mut(&mut self) -> Option<&mut UserRing> {
        match &mut self.store {
            Store::UserRing(ring) => Some(ring),
            _ => None,
        }
    }
}
