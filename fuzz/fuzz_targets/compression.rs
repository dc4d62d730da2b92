//! Compressed downloads: learning the unpacked size from a hostile file's head and tail never
//! panics, needs the format's magic, agrees with libzstd's reading of a zstd frame header, and
//! for xz is exactly what liblzma unpacks whenever it unpacks the file without error; the
//! decoders never panic on the same bytes. The first byte picks the format, the rest is the
//! file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Read;
use update_center_engine::source::compression::{Compression, HEAD_BYTES, TAIL_BYTES};

/// Most bytes unpacked per input (a small input can claim, and unpack to, gigabytes).
const UNPACK_CAP: u64 = 1 << 20;

const MAGIC: [&[u8]; 3] = [
    &[0xfd, b'7', b'z', b'X', b'Z', 0],
    &[0x1f, 0x8b],
    &[0x28, 0xb5, 0x2f, 0xfd],
];

/// Unpacks at most `limit` bytes: how many, or the decoder's error (a decoder stopped at the
/// limit has not checked the rest).
fn unpack(kind: Compression, file: &[u8], limit: u64) -> std::io::Result<u64> {
    let mut out = Vec::new();
    kind.decoder(file)?.take(limit).read_to_end(&mut out)?;
    Ok(out.len() as u64)
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, file)) = data.split_first() else {
        return;
    };
    let which = usize::from(selector % 3);
    let kind = [Compression::Xz, Compression::Gzip, Compression::Zstd][which];
    let len = file.len() as u64;
    let head = &file[..file.len().min(HEAD_BYTES as usize)];
    let tail = &file[file.len().saturating_sub(TAIL_BYTES as usize)..];
    let size = kind.unpacked_size(head, tail, len);

    if !file.starts_with(MAGIC[which]) {
        assert!(size.is_err());
    }
    match kind {
        Compression::Gzip => {
            if let Ok(n) = size {
                assert!(len >= 18 && n <= u64::from(u32::MAX));
                assert_eq!(n.to_le_bytes()[..4], file[file.len() - 4..]);
            }
        }
        Compression::Zstd if file.starts_with(MAGIC[2]) => {
            match zstd::zstd_safe::get_frame_content_size(file) {
                Ok(Some(n)) => assert_eq!(size, Ok(n)),
                Ok(None) => assert!(size.is_err()),
                // A header libzstd refuses (reserved bit, window too large): the size may be
                // read, but the file never unpacks.
                Err(_) => {
                    if size.is_ok() {
                        assert!(unpack(kind, file, UNPACK_CAP).is_err());
                    }
                }
            }
        }
        _ => {}
    }
    match size {
        // Under the cap the whole file is unpacked: liblzma reaching its end without an error
        // means the index it checked is the one that was read.
        Ok(n) if kind == Compression::Xz && n < UNPACK_CAP => {
            if let Ok(unpacked) = unpack(kind, file, UNPACK_CAP)
                && unpacked < UNPACK_CAP
            {
                assert_eq!(unpacked, n);
            }
        }
        Ok(n) => {
            let _ = unpack(kind, file, n.min(UNPACK_CAP) + 1);
        }
        Err(_) => {
            let _ = unpack(kind, file, UNPACK_CAP);
        }
    }
});
