//! Content-defined chunking compatible with `casync make`: a buzhash over a 48-byte window
//! rolls over the file, and a chunk ends where the hash modulo a discriminator (derived from
//! the average size) hits its last value, never before the minimum size and always at the
//! maximum. The same bytes give the same boundaries as casync and desync, so that chunks
//! published by either are found in our seeds, and our indexes in theirs.

use crate::delta::index::{BLOB_FLAGS, Chunk, ChunkId, ChunkSizes, Index};
use sha2::{Digest, Sha512_256};
use std::io::Read;

/// The rolling window, in bytes.
const WINDOW: usize = 48;

/// casync's defaults: 16/64/256 KiB.
pub const CASYNC_DEFAULT: ChunkSizes = ChunkSizes {
    min: 16 * 1024,
    avg: 64 * 1024,
    max: 256 * 1024,
};

/// What KDE Linux has chunked its images at since 2026-04: 1/2/4 MiB.
pub const KDE_LINUX: ChunkSizes = ChunkSizes {
    min: 1024 * 1024,
    avg: 2 * 1024 * 1024,
    max: 4 * 1024 * 1024,
};

/// The buzhash table of the casync chunk format: 256 fixed values, part of the format as much
/// as the index's magic numbers are (other values would cut elsewhere, and no published chunk
/// would ever match).
const TABLE: [u32; 256] = [
    0x458be752, 0xc10748cc, 0xfbbcdbb8, 0x6ded5b68, 0xb10a82b5, 0x20d75648, 0xdfc5665f, 0xa8428801,
    0x7ebf5191, 0x841135c7, 0x65cc53b3, 0x280a597c, 0x16f60255, 0xc78cbc3e, 0x294415f5, 0xb938d494,
    0xec85c4e6, 0xb7d33edc, 0xe549b544, 0xfdeda5aa, 0x882bf287, 0x3116737c, 0x05569956, 0xe8cc1f68,
    0x0806ac5e, 0x22a14443, 0x15297e10, 0x50d090e7, 0x4ba60f6f, 0xefd9f1a7, 0x5c5c885c, 0x82482f93,
    0x9bfd7c64, 0x0b3e7276, 0xf2688e77, 0x8fad8abc, 0xb0509568, 0xf1ada29f, 0xa53efdfe, 0xcb2b1d00,
    0xf2a9e986, 0x6463432b, 0x95094051, 0x5a223ad2, 0x9be8401b, 0x61e579cb, 0x1a556a14, 0x5840fdc2,
    0x9261ddf6, 0xcde002bb, 0x52432bb0, 0xbf17373e, 0x7b7c222f, 0x2955ed16, 0x9f10ca59, 0xe840c4c9,
    0xccabd806, 0x14543f34, 0x1462417a, 0x0d4a1f9c, 0x087ed925, 0xd7f8f24c, 0x7338c425, 0xcf86c8f5,
    0xb19165cd, 0x9891c393, 0x325384ac, 0x0308459d, 0x86141d7e, 0xc922116a, 0xe2ffa6b6, 0x53f52aed,
    0x2cd86197, 0xf5b9f498, 0xbf319c8f, 0xe0411fae, 0x977eb18c, 0xd8770976, 0x9833466a, 0xc674df7f,
    0x8c297d45, 0x8ca48d26, 0xc49ed8e2, 0x7344f874, 0x556f79c7, 0x6b25eaed, 0xa03e2b42, 0xf68f66a4,
    0x8e8b09a2, 0xf2e0e62a, 0x0d3a9806, 0x9729e493, 0x8c72b0fc, 0x160b94f6, 0x450e4d3d, 0x7a320e85,
    0xbef8f0e1, 0x21d73653, 0x4e3d977a, 0x1e7b3929, 0x1cc6c719, 0xbe478d53, 0x8d752809, 0xe6d8c2c6,
    0x275f0892, 0xc8acc273, 0x4cc21580, 0xecc4a617, 0xf5f7be70, 0xe795248a, 0x375a2fe9, 0x425570b6,
    0x8898dcf8, 0xdc2d97c4, 0x0106114b, 0x364dc22f, 0x1e0cad1f, 0xbe63803c, 0x5f69fac2, 0x4d5afa6f,
    0x1bc0dfb5, 0xfb273589, 0x0ea47f7b, 0x3c1c2b50, 0x21b2a932, 0x6b1223fd, 0x2fe706a8, 0xf9bd6ce2,
    0xa268e64e, 0xe987f486, 0x3eacf563, 0x1ca2018c, 0x65e18228, 0x2207360a, 0x57cf1715, 0x34c37d2b,
    0x1f8f3cde, 0x93b657cf, 0x31a019fd, 0xe69eb729, 0x8bca7b9b, 0x4c9d5bed, 0x277ebeaf, 0xe0d8f8ae,
    0xd150821c, 0x31381871, 0xafc3f1b0, 0x927db328, 0xe95effac, 0x305a47bd, 0x426ba35b, 0x1233af3f,
    0x686a5b83, 0x50e072e5, 0xd9d3bb2a, 0x8befc475, 0x487f0de6, 0xc88dff89, 0xbd664d5e, 0x971b5d18,
    0x63b14847, 0xd7d3c1ce, 0x7f583cf3, 0x72cbcb09, 0xc0d0a81c, 0x7fa3429b, 0xe9158a1b, 0x225ea19a,
    0xd8ca9ea3, 0xc763b282, 0xbb0c6341, 0x020b8293, 0xd4cd299d, 0x58cfa7f8, 0x91b4ee53, 0x37e4d140,
    0x95ec764c, 0x30f76b06, 0x5ee68d24, 0x679c8661, 0xa41979c2, 0xf2b61284, 0x4fac1475, 0x0adb49f9,
    0x19727a23, 0x15a7e374, 0xc43a18d5, 0x3fb1aa73, 0x342fc615, 0x924c0793, 0xbee2d7f0, 0x8a279de9,
    0x4aa2d70c, 0xe24dd37f, 0xbe862c0b, 0x177c22c2, 0x5388e5ee, 0xcd8a7510, 0xf901b4fd, 0xdbc13dbc,
    0x6c0bae5b, 0x64efe8c7, 0x48b02079, 0x80331a49, 0xca3d8ae6, 0xf3546190, 0xfed7108b, 0xc49b941b,
    0x32baf4a9, 0xeb833a4a, 0x88a3f1a5, 0x3a91ce0a, 0x3cc27da1, 0x7112e684, 0x4a3096b1, 0x3794574c,
    0xa3c8b6f3, 0x1d213941, 0x6e0a2e00, 0x233479f1, 0x0f4cd82f, 0x6093edd2, 0x5d7d209e, 0x464fe319,
    0xd4dcac9e, 0x0db845cb, 0xfb5e4bc3, 0xe0256ce1, 0x09fb4ed1, 0x0914be1e, 0xa5bdb2c3, 0xc6eb57bb,
    0x30320350, 0x3f397e91, 0xa67791bc, 0x86bc0e2c, 0xefa0a7e2, 0xe9ff7543, 0xe733612c, 0xd185897b,
    0x329e5388, 0x91dd236b, 0x2ecb0d93, 0xf4d82a3d, 0x35b5c03f, 0xe4e606f0, 0x05b21843, 0x37b45964,
    0x5eff22f4, 0x6027f4cc, 0x77178b3c, 0xae507131, 0x7bf7cabc, 0xf9c18d66, 0x593ade65, 0xd95ddf11,
];

/// The cut test's divisor for an average size (casync's fit of the size distribution: chunks
/// end up about 1.32 times the raw divisor), kept within min and max.
pub fn discriminator(sizes: ChunkSizes) -> u64 {
    let avg = sizes.avg as f64;
    let raw = (avg / (-1.42888852e-7 * avg + 1.33237515)) as u64;
    raw.clamp(sizes.min, sizes.max)
}

/// Reads `MIN:AVG:MAX` (bytes), or `AVG` alone with casync's MIN = AVG/4 and MAX = 4×AVG.
pub fn parse_sizes(text: &str) -> Result<ChunkSizes, String> {
    let number = |t: &str| {
        t.trim()
            .parse::<u64>()
            .map_err(|_| format!("`{t}` is not a number of bytes"))
    };
    let parts: Vec<&str> = text.split(':').collect();
    let sizes = match parts.as_slice() {
        [avg] => {
            let avg = number(avg)?;
            ChunkSizes {
                min: avg / 4,
                avg,
                max: avg.saturating_mul(4),
            }
        }
        [min, avg, max] => ChunkSizes {
            min: number(min)?,
            avg: number(avg)?,
            max: number(max)?,
        },
        _ => return Err(format!("`{text}`: give MIN:AVG:MAX or AVG (bytes)")),
    };
    let (lowest, highest) = crate::delta::index::CHUNK_SIZE_LIMITS;
    if !(lowest <= sizes.min
        && sizes.min <= sizes.avg
        && sizes.avg <= sizes.max
        && sizes.max <= highest)
    {
        return Err(format!(
            "`{text}`: chunk sizes must grow from MIN to MAX, between {lowest} and {highest} bytes"
        ));
    }
    Ok(sizes)
}

/// Finds chunk boundaries in a stream fed piece by piece.
pub struct Chunker {
    sizes: ChunkSizes,
    discriminator: u32,
    hash: u32,
    window: [u8; WINDOW],
    window_len: usize,
    chunk_len: u64,
}

impl Chunker {
    /// A chunker cutting at `sizes`.
    pub fn new(sizes: ChunkSizes) -> Self {
        Self {
            sizes,
            discriminator: discriminator(sizes) as u32,
            hash: 0,
            window: [0; WINDOW],
            window_len: 0,
            chunk_len: 0,
        }
    }

    fn ends_here(&self) -> bool {
        if self.chunk_len >= self.sizes.max {
            return true;
        }
        if self.chunk_len < self.sizes.min {
            return false;
        }
        self.hash % self.discriminator == self.discriminator - 1
    }

    fn restart(&mut self) {
        self.hash = 0;
        self.window_len = 0;
        self.chunk_len = 0;
    }

    /// Feeds `data`; returns how many of its bytes complete the current chunk when it ends in
    /// `data` (the rest belongs to the next chunks: feed it again), None when it goes on.
    pub fn scan(&mut self, data: &[u8]) -> Option<usize> {
        if self.sizes.min == self.sizes.avg && self.sizes.max == self.sizes.avg {
            // Fixed size chunks.
            let taken = ((self.sizes.avg - self.chunk_len) as usize).min(data.len());
            self.chunk_len += taken as u64;
            if self.chunk_len < self.sizes.avg {
                return None;
            }
            self.restart();
            return Some(taken);
        }
        let mut used = 0;
        if self.window_len < WINDOW {
            let taken = (WINDOW - self.window_len).min(data.len());
            self.window[self.window_len..self.window_len + taken].copy_from_slice(&data[..taken]);
            self.window_len += taken;
            self.chunk_len += taken as u64;
            used = taken;
            if self.window_len < WINDOW {
                return None;
            }
            self.hash = self.window.iter().enumerate().fold(0, |h, (i, b)| {
                h ^ TABLE[*b as usize].rotate_left((WINDOW - 1 - i) as u32)
            });
            if self.ends_here() {
                self.restart();
                return Some(used);
            }
        }
        let mut slot = (self.chunk_len % WINDOW as u64) as usize;
        for &entering in &data[used..] {
            let leaving = self.window[slot];
            self.hash = self.hash.rotate_left(1)
                ^ TABLE[leaving as usize].rotate_left(WINDOW as u32)
                ^ TABLE[entering as usize];
            self.chunk_len += 1;
            used += 1;
            if self.ends_here() {
                self.restart();
                return Some(used);
            }
            self.window[slot] = entering;
            slot = (slot + 1) % WINDOW;
        }
        None
    }
}

/// Cuts everything `reader` yields into chunks, hashing each; `on_chunk` sees every chunk's
/// bytes as it is completed (to store it).
pub fn chunk(
    mut reader: impl Read,
    sizes: ChunkSizes,
    mut on_chunk: impl FnMut(&Chunk, &[u8]) -> std::io::Result<()>,
) -> std::io::Result<Index> {
    let mut chunker = Chunker::new(sizes);
    let mut buffer = vec![0u8; 1024 * 1024];
    let mut current: Vec<u8> = Vec::with_capacity(sizes.max as usize);
    let mut chunks = Vec::new();
    let mut offset = 0u64;
    let mut finish = |current: &mut Vec<u8>, offset: &mut u64| -> std::io::Result<()> {
        let chunk = Chunk {
            offset: *offset,
            size: current.len() as u64,
            id: ChunkId(Sha512_256::digest(current.as_slice()).into()),
        };
        on_chunk(&chunk, current)?;
        *offset += chunk.size;
        chunks.push(chunk);
        current.clear();
        Ok(())
    };
    loop {
        let read = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let mut rest = &buffer[..read];
        while !rest.is_empty() {
            match chunker.scan(rest) {
                Some(end) => {
                    current.extend_from_slice(&rest[..end]);
                    finish(&mut current, &mut offset)?;
                    rest = &rest[end..];
                }
                None => {
                    current.extend_from_slice(rest);
                    rest = &[];
                }
            }
        }
    }
    if !current.is_empty() {
        finish(&mut current, &mut offset)?;
    }
    Ok(Index {
        flags: BLOB_FLAGS,
        sizes,
        chunks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes that look random but are the same on every run.
    fn noise(len: usize, seed: u64) -> Vec<u8> {
        let mut state = seed;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect()
    }

    fn small() -> ChunkSizes {
        ChunkSizes {
            min: 1024,
            avg: 4096,
            max: 16384,
        }
    }

    #[test]
    fn the_discriminator_follows_casyncs_fit() {
        // casync's defaults: 65536 / (1.33237515 - 1.42888852e-7 * 65536) = 49535.5.
        assert_eq!(discriminator(CASYNC_DEFAULT), 49_535);
        assert!(discriminator(KDE_LINUX) > KDE_LINUX.min);
        assert!(discriminator(KDE_LINUX) < KDE_LINUX.avg);
    }

    #[test]
    fn chunks_cover_the_input_within_the_limits() {
        let data = noise(1_000_000, 7);
        let index = chunk(&data[..], small(), |_, _| Ok(())).expect("chunked");
        assert_eq!(index.blob_size(), data.len() as u64);
        let (last, rest) = index.chunks.split_last().expect("chunks");
        assert!(rest.iter().all(|c| (1024..=16384).contains(&c.size)));
        assert!(last.size <= 16384);
        for c in &index.chunks {
            let bytes = &data[c.offset as usize..(c.offset + c.size) as usize];
            assert_eq!(c.id, ChunkId::of(bytes));
        }
        // An average near the one asked for.
        let average = data.len() as u64 / index.chunks.len() as u64;
        assert!((2048..8192).contains(&average), "average {average}");
    }

    #[test]
    fn boundaries_do_not_depend_on_how_the_input_is_fed() {
        let data = noise(300_000, 3);
        let whole = chunk(&data[..], small(), |_, _| Ok(())).expect("chunked");
        // A reader that yields 1 to 97 bytes at a time.
        struct Dribble<'a>(&'a [u8], usize);
        impl Read for Dribble<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.1 = self.1 % 97 + 1;
                let n = self.1.min(buf.len()).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let dribbled = chunk(Dribble(&data, 0), small(), |_, _| Ok(())).expect("chunked");
        assert_eq!(whole, dribbled);
    }

    #[test]
    fn an_insertion_changes_only_the_chunks_around_it() {
        let data = noise(500_000, 11);
        let mut edited = data.clone();
        edited.splice(250_000..250_000, noise(100, 5));
        let a = chunk(&data[..], small(), |_, _| Ok(())).expect("chunked");
        let b = chunk(&edited[..], small(), |_, _| Ok(())).expect("chunked");
        let ids: std::collections::BTreeSet<_> = a.chunks.iter().map(|c| c.id).collect();
        let new = b.chunks.iter().filter(|c| !ids.contains(&c.id)).count();
        assert!(new <= 3, "{new} of {} chunks changed", b.chunks.len());
    }

    #[test]
    fn chunk_sizes_are_read_as_casync_reads_them() {
        assert_eq!(parse_sizes("65536"), Ok(CASYNC_DEFAULT));
        assert_eq!(parse_sizes("1048576:2097152:4194304"), Ok(KDE_LINUX));
        assert!(parse_sizes("4:2:1").is_err());
        assert!(parse_sizes("0:1:2").is_err());
        assert!(parse_sizes("big").is_err());
        assert!(parse_sizes("1:2").is_err());
    }

    #[test]
    fn fixed_sizes_cut_every_avg_bytes() {
        let sizes = ChunkSizes {
            min: 1000,
            avg: 1000,
            max: 1000,
        };
        let index = chunk(&noise(2500, 1)[..], sizes, |_, _| Ok(())).expect("chunked");
        let lengths: Vec<u64> = index.chunks.iter().map(|c| c.size).collect();
        assert_eq!(lengths, [1000, 1000, 500]);
    }
}
