//! How a record is laid out in a segment file: a 16-byte header — payload length (u32), a
//! CRC-32 of the length, offset and payload (u32), the offset (u64), all little-endian —
//! then the payload. The checksum covers the offset, so a frame found by scanning forward
//! after damage is known to be the record it says it is.

/// Bytes of a frame's header.
pub(super) const HEADER: usize = 16;

/// Appends the frame of record `offset` to `out`.
pub(super) fn encode(offset: u64, payload: &[u8], out: &mut Vec<u8>) {
    let len = payload.len() as u32;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&checksum(len, offset, payload).to_le_bytes());
    out.extend_from_slice(&offset.to_le_bytes());
    out.extend_from_slice(payload);
}

fn checksum(len: u32, offset: u64, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&len.to_le_bytes());
    h.update(&offset.to_le_bytes());
    h.update(payload);
    h.finalize()
}

/// What the bytes at the start of a buffer hold.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Frame<'a> {
    /// A whole, intact record, `size` bytes framed.
    Record {
        /// The record's offset.
        offset: u64,
        /// Its payload.
        payload: &'a [u8],
        /// Bytes of header and payload.
        size: usize,
    },
    /// The buffer ends inside a frame whose header is intact so far.
    Incomplete {
        /// Bytes the whole frame needs.
        needs: usize,
    },
    /// Not a frame: a torn write, garbage or a damaged record.
    Invalid,
}

/// Parses the frame at the start of `buf`; frames longer than `max_payload` are invalid.
pub(super) fn parse(buf: &[u8], max_payload: usize) -> Frame<'_> {
    if buf.len() < HEADER {
        return Frame::Incomplete { needs: HEADER };
    }
    let len = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]);
    if len as usize > max_payload {
        return Frame::Invalid;
    }
    let size = HEADER + len as usize;
    if buf.len() < size {
        return Frame::Incomplete { needs: size };
    }
    let crc = u32::from_le_bytes([buf[4], buf[5], buf[6], buf[7]]);
    let mut offset_bytes = [0u8; 8];
    offset_bytes.copy_from_slice(&buf[8..16]);
    let offset = u64::from_le_bytes(offset_bytes);
    let payload = &buf[HEADER..size];
    if checksum(len, offset, payload) != crc || offset == 0 {
        return Frame::Invalid;
    }
    Frame::Record { offset, payload, size }
}

/// The first position after the start of `buf` where an intact frame of an offset above
/// `after` begins, if any: where reading resumes after damage.
pub(super) fn resync(buf: &[u8], after: u64, max_payload: usize) -> Option<usize> {
    (1..buf.len().saturating_sub(HEADER - 1))
        .find(|&at| matches!(parse(&buf[at..], max_payload), Frame::Record { offset, .. } if offset > after))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_reads_back_and_any_flipped_bit_is_caught() {
        let mut buf = Vec::new();
        encode(7, b"hello", &mut buf);
        assert_eq!(parse(&buf, 1 << 20), Frame::Record { offset: 7, payload: b"hello", size: HEADER + 5 });
        for bit in 0..buf.len() * 8 {
            let mut bad = buf.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(!matches!(parse(&bad, 1 << 20), Frame::Record { offset: 7, payload: b"hello", .. }), "bit {bit}");
        }
    }

    #[test]
    fn a_cut_frame_is_incomplete_and_zeros_are_invalid() {
        let mut buf = Vec::new();
        encode(3, b"abcdef", &mut buf);
        assert_eq!(parse(&buf[..10], 1 << 20), Frame::Incomplete { needs: HEADER });
        assert_eq!(parse(&buf[..HEADER + 2], 1 << 20), Frame::Incomplete { needs: HEADER + 6 });
        assert_eq!(parse(&[0u8; 64], 1 << 20), Frame::Invalid);
        assert_eq!(parse(&buf, 4), Frame::Invalid, "longer than the limit");
    }

    #[test]
    fn resync_finds_the_next_intact_frame() {
        let mut buf = Vec::new();
        encode(1, b"one", &mut buf);
        let second = buf.len();
        encode(2, b"two", &mut buf);
        buf[5] ^= 0xff;
        assert_eq!(parse(&buf, 1 << 20), Frame::Invalid);
        assert_eq!(resync(&buf, 1, 1 << 20), Some(second));
        assert_eq!(resync(&buf, 2, 1 << 20), None);
    }
}
