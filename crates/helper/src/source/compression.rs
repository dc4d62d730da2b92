//! Compressed payloads: a source file named `….xz`, `….gz` or `….zst` is unpacked into its
//! target, as systemd-sysupdate does. `SHA256SUMS` covers the compressed bytes, so they are
//! downloaded and verified first and only verified bytes ever reach a decompressor.
//!
//! The room check needs the unpacked size before anything is written. Each format records it:
//! the xz index at the end of the file, the zstd frame header at the start, the gzip trailer
//! (modulo 4 GiB). The size learned there is also a limit: a file that unpacks to more or fewer
//! bytes is refused.

use serde::Serialize;
use std::io::Read;

/// A compression format, chosen by the source file's suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// `.xz`
    Xz,
    /// `.gz`
    Gzip,
    /// `.zst`
    Zstd,
}

/// Bytes read from the start of a compressed file to learn its unpacked size.
pub const HEAD_BYTES: u64 = 32;
/// Bytes read from the end of a compressed file to learn its unpacked size (the xz index of a
/// multi-gigabyte image with one block per few megabytes fits easily).
pub const TAIL_BYTES: u64 = 64 * 1024;

const XZ_MAGIC: &[u8] = &[0xfd, b'7', b'z', b'X', b'Z', 0];
const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

impl Compression {
    /// The format a file name's suffix names, if any.
    pub fn of_name(name: &str) -> Option<Self> {
        if name.ends_with(".xz") {
            Some(Self::Xz)
        } else if name.ends_with(".gz") {
            Some(Self::Gzip)
        } else if name.ends_with(".zst") {
            Some(Self::Zstd)
        } else {
            None
        }
    }

    fn magic(self) -> &'static [u8] {
        match self {
            Self::Xz => XZ_MAGIC,
            Self::Gzip => GZIP_MAGIC,
            Self::Zstd => ZSTD_MAGIC,
        }
    }

    /// The suffix, for messages.
    pub fn suffix(self) -> &'static str {
        match self {
            Self::Xz => ".xz",
            Self::Gzip => ".gz",
            Self::Zstd => ".zst",
        }
    }

    /// The unpacked size recorded in a file of `len` bytes whose first bytes are `head` and
    /// last bytes are `tail` (as many as the file has, up to [`HEAD_BYTES`] / [`TAIL_BYTES`]).
    pub fn unpacked_size(self, head: &[u8], tail: &[u8], len: u64) -> Result<u64, String> {
        if !head.starts_with(self.magic()) {
            return Err(format!(
                "it is named {} but does not start like one",
                self.suffix()
            ));
        }
        match self {
            Self::Xz => xz_size(tail, len),
            Self::Gzip => gzip_size(tail, len),
            Self::Zstd => zstd_size(head),
        }
    }

    /// A reader of the unpacked bytes of `input`.
    pub fn decoder<'a>(self, input: impl Read + 'a) -> std::io::Result<Box<dyn Read + 'a>> {
        let input = std::io::BufReader::with_capacity(1024 * 1024, input);
        Ok(match self {
            Self::Xz => Box::new(liblzma::bufread::XzDecoder::new(input)),
            Self::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(input)),
            Self::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(input)?),
        })
    }
}

/// Reads an xz multibyte integer (at most 9 bytes, 63 bits).
fn xz_varint(bytes: &[u8], at: &mut usize) -> Result<u64, String> {
    let mut value: u64 = 0;
    for i in 0..9 {
        let byte = *bytes.get(*at).ok_or("its xz index ends early")?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("its xz index has an overlong number".into())
}

/// The unpacked size from the index of a single-stream xz file.
fn xz_size(tail: &[u8], len: u64) -> Result<u64, String> {
    // Stream footer: CRC32 (4), backward size (4), flags (2), "YZ".
    if tail.len() < 12 || &tail[tail.len() - 2..] != b"YZ" {
        return Err("it has no xz stream footer (is the file cut short?)".into());
    }
    let footer = &tail[tail.len() - 12..];
    let backward = u32::from_le_bytes([footer[4], footer[5], footer[6], footer[7]]);
    let index_len = (u64::from(backward) + 1) * 4;
    let index_end = tail.len() - 12;
    let index_start = usize::try_from(index_len)
        .ok()
        .and_then(|n| index_end.checked_sub(n))
        .ok_or("its xz index is larger than this reader allows")?;
    let index = &tail[index_start..index_end];
    if index.first() != Some(&0) {
        return Err("its xz index is malformed".into());
    }
    let mut at = 1;
    let records = xz_varint(index, &mut at)?;
    let (mut unpacked, mut blocks): (u64, u64) = (0, 0);
    for _ in 0..records {
        let unpadded = xz_varint(index, &mut at)?;
        let size = xz_varint(index, &mut at)?;
        blocks = blocks
            .checked_add(unpadded.div_ceil(4) * 4)
            .ok_or("its xz index is malformed")?;
        unpacked = unpacked
            .checked_add(size)
            .ok_or("its xz index is malformed")?;
    }
    // Stream header (12) + blocks + index + footer (12) must be the whole file; anything else
    // is several concatenated streams (or padding), which this reader does not size.
    if blocks.checked_add(24 + index_len) != Some(len) {
        return Err(
            "it holds several xz streams; recompress it as one (xz without --concatenated input)"
                .into(),
        );
    }
    Ok(unpacked)
}

/// The unpacked size from a gzip trailer: only trusted for one member under 4 GiB (anything
/// else is caught by the exact-size check while unpacking).
fn gzip_size(tail: &[u8], len: u64) -> Result<u64, String> {
    if tail.len() < 8 || len < 18 {
        return Err("it is too short for gzip".into());
    }
    let isize = &tail[tail.len() - 4..];
    Ok(u64::from(u32::from_le_bytes([
        isize[0], isize[1], isize[2], isize[3],
    ])))
}

/// The content size of a zstd file's first frame, which zstd writes for files it compresses.
fn zstd_size(head: &[u8]) -> Result<u64, String> {
    let descriptor = *head.get(4).ok_or("it is too short for zstd")?;
    let fcs_flag = descriptor >> 6;
    let single_segment = descriptor & 0x20 != 0;
    let dictionary_bytes = [0usize, 1, 2, 4][usize::from(descriptor & 0x3)];
    let fcs_bytes = match (fcs_flag, single_segment) {
        (0, false) => {
            return Err(
                "its zstd frame does not record the unpacked size (compress a file, not a pipe)"
                    .into(),
            );
        }
        (0, true) => 1,
        (1, _) => 2,
        (2, _) => 4,
        _ => 8,
    };
    let start = 5 + usize::from(!single_segment) + dictionary_bytes;
    let field = head
        .get(start..start + fcs_bytes)
        .ok_or("it is too short for zstd")?;
    let mut bytes = [0u8; 8];
    bytes[..fcs_bytes].copy_from_slice(field);
    let value = u64::from_le_bytes(bytes);
    // libzstd reserves the two largest values as "unknown" and "error": such a frame records
    // no size, whatever the mirror wants us to plan room for.
    if value >= u64::MAX - 1 {
        return Err("its zstd frame does not record the unpacked size".into());
    }
    Ok(if fcs_bytes == 2 { value + 256 } else { value })
}

#[cfg(test)]
mod tests {
    use super::Compression;
    use std::io::{Read, Write};

    #[test]
    fn a_zstd_size_field_libzstd_reads_as_unknown_is_refused() {
        // Found by the compression fuzz target: magic, single segment with an 8-byte size,
        // the size all ones.
        let head = [
            0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ];
        let error = Compression::Zstd
            .unpacked_size(&head, &head, head.len() as u64)
            .expect_err("no size");
        assert!(error.contains("does not record"), "{error}");
    }

    fn payload(len: usize) -> Vec<u8> {
        (0..len).map(|i| ((i * 7) % 253) as u8).collect()
    }

    fn pack(kind: Compression, data: &[u8]) -> Vec<u8> {
        match kind {
            Compression::Xz => {
                let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
                e.write_all(data).expect("xz");
                e.finish().expect("xz")
            }
            Compression::Gzip => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(data).expect("gz");
                e.finish().expect("gz")
            }
            Compression::Zstd => zstd::bulk::compress(data, 1).expect("zstd"),
        }
    }

    fn size_of(kind: Compression, packed: &[u8]) -> Result<u64, String> {
        let head = &packed[..packed.len().min(super::HEAD_BYTES as usize)];
        let tail = &packed[packed.len().saturating_sub(super::TAIL_BYTES as usize)..];
        kind.unpacked_size(head, tail, packed.len() as u64)
    }

    #[test]
    fn each_format_records_its_unpacked_size_and_unpacks() {
        for kind in [Compression::Xz, Compression::Gzip, Compression::Zstd] {
            for len in [0, 1, 255, 256, 300, 70_000, 3_000_000] {
                let data = payload(len);
                let packed = pack(kind, &data);
                assert_eq!(size_of(kind, &packed), Ok(len as u64), "{kind:?} {len}");
                let mut out = Vec::new();
                kind.decoder(&packed[..])
                    .expect("decoder")
                    .read_to_end(&mut out)
                    .expect("unpack");
                assert_eq!(out, data, "{kind:?} {len}");
            }
        }
    }

    #[test]
    fn names_choose_the_format() {
        assert_eq!(Compression::of_name("a.erofs.xz"), Some(Compression::Xz));
        assert_eq!(Compression::of_name("a.efi.gz"), Some(Compression::Gzip));
        assert_eq!(Compression::of_name("a.raw.zst"), Some(Compression::Zstd));
        assert_eq!(Compression::of_name("a.erofs"), None);
        assert_eq!(Compression::of_name("a.xz.erofs"), None);
    }

    #[test]
    fn a_file_that_is_not_what_its_name_says_is_refused() {
        let packed = pack(Compression::Gzip, &payload(1000));
        let error = size_of(Compression::Xz, &packed).expect_err("not xz");
        assert!(error.contains("named .xz"), "{error}");
    }

    #[test]
    fn a_cut_xz_file_and_two_concatenated_streams_are_refused() {
        let packed = pack(Compression::Xz, &payload(100_000));
        let cut = &packed[..packed.len() - 5];
        assert!(size_of(Compression::Xz, cut).is_err());
        let mut two = packed.clone();
        two.extend_from_slice(&packed);
        let error = size_of(Compression::Xz, &two).expect_err("two streams");
        assert!(error.contains("several xz streams"), "{error}");
    }

    #[test]
    fn a_zstd_frame_without_a_size_is_refused() {
        let mut e = zstd::stream::write::Encoder::new(Vec::new(), 1).expect("zstd");
        e.include_contentsize(false).expect("flag");
        e.write_all(&payload(5000)).expect("zstd");
        let packed = e.finish().expect("zstd");
        let error = size_of(Compression::Zstd, &packed).expect_err("no size");
        assert!(error.contains("does not record"), "{error}");
    }

    proptest::proptest! {
        #[test]
        fn hostile_heads_and_tails_never_panic(
            head in proptest::collection::vec(proptest::num::u8::ANY, 0..40),
            tail in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
            len in 0u64..u64::MAX,
        ) {
            for kind in [Compression::Xz, Compression::Gzip, Compression::Zstd] {
                let mut h = kind.magic().to_vec();
                h.extend_from_slice(&head);
                let _ = kind.unpacked_size(&h, &tail, len);
                let mut t = tail.clone();
                t.extend_from_slice(b"YZ");
                let _ = kind.unpacked_size(&h, &t, len);
            }
        }
    }
}
