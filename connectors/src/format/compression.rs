//! Compressed input, told by its first bytes: gzip (`1f 8b`) and zstd (`28 b5 2f fd`).

use std::io::{BufRead, BufReader, Read};

/// `input`, decompressed when it starts like gzip or zstd data.
pub fn decompressed(input: Box<dyn Read + Send>) -> std::io::Result<Box<dyn Read + Send>> {
    let mut buffered = BufReader::with_capacity(256 << 10, input);
    let head = buffered.fill_buf()?;
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(BufReader::with_capacity(256 << 10, flate2::bufread::MultiGzDecoder::new(buffered)))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Box::new(zstd::stream::read::Decoder::with_buffer(buffered)?)
    } else {
        Box::new(buffered)
    })
}
