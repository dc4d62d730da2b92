//! The casync blob index (`.caibx`): a header with the chunking parameters, then a table of
//! chunks, each its end offset in the blob and its id (the SHA-512/256 of its uncompressed
//! bytes), then a tail that points back at the table. Every integer is a little-endian u64.
//!
//! Reading is strict: an index is untrusted input from a mirror, so every field is checked
//! (sizes, types, flags, offsets that grow, the tail's marker and sums) and anything else is an
//! error naming the byte where it went wrong; the result is only ever a list of chunks to look
//! for, each verified by its id before use.

use sha2::{Digest, Sha512_256};
use std::fmt;

/// `CA_FORMAT_INDEX`: the header's type.
const INDEX_TYPE: u64 = 0x9682_4d9c_7b12_9ff9;
/// `CA_FORMAT_TABLE`: the table header's type.
const TABLE_TYPE: u64 = 0xe75b_9e11_2f17_417d;
/// `CA_FORMAT_TABLE_TAIL_MARKER`: the last field of an index.
const TAIL_MARKER: u64 = 0x4b4f_050e_5549_ecd1;
/// The header's size in bytes.
const HEADER_BYTES: u64 = 48;
/// The table header's size in bytes.
const TABLE_HEADER_BYTES: u64 = 16;
/// One table item: an end offset and a 32-byte id.
const ITEM_BYTES: u64 = 40;
/// The tail's size in bytes.
const TAIL_BYTES: u64 = 40;
/// `CA_FORMAT_SHA512_256`: chunk ids are SHA-512/256 (the only digest accepted here).
pub const SHA512_256: u64 = 0x2000_0000_0000_0000;
/// The flags `casync make` writes on a blob index: SHA-512/256 ids, and its default exclusion
/// flags (nodump files, `.caexclude` files), which mean nothing for a blob but are part of the
/// bytes.
pub const BLOB_FLAGS: u64 = SHA512_256 | 0x8000_0000_0000_0000 | 0x1000_0000_0000_0000;
/// The smallest and largest chunk sizes casync accepts (`CA_CHUNK_SIZE_LIMIT_MIN/MAX`).
pub const CHUNK_SIZE_LIMITS: (u64, u64) = (1, 128 * 1024 * 1024);
/// The most chunks an index may list (a 1 TiB image at the smallest KDE chunk size is far less).
pub const MAX_CHUNKS: u64 = 16 * 1024 * 1024;

/// A chunk id: the SHA-512/256 of the chunk's uncompressed bytes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChunkId(pub [u8; 32]);

impl ChunkId {
    /// The id of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha512_256::digest(bytes).into())
    }

    /// Lower-case hex, as in a chunk store's file names.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The chunk's path in a store: `<first 4 hex digits>/<id>.cacnk`.
    pub fn store_path(&self) -> String {
        let hex = self.to_hex();
        format!("{}/{hex}.cacnk", &hex[..4])
    }
}

impl fmt::Debug for ChunkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// One chunk of a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// Where it starts in the blob.
    pub offset: u64,
    /// Its length in bytes.
    pub size: u64,
    /// Its id.
    pub id: ChunkId,
}

/// How a blob was cut (bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkSizes {
    /// No chunk is smaller, except the last.
    pub min: u64,
    /// The average aimed at.
    pub avg: u64,
    /// No chunk is larger.
    pub max: u64,
}

/// A blob index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// The header's feature flags.
    pub flags: u64,
    /// The chunking parameters.
    pub sizes: ChunkSizes,
    /// The chunks, in order; together they are the blob.
    pub chunks: Vec<Chunk>,
}

/// Why an index cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    /// The file ends early.
    #[error("the chunk index is cut short ({size} bytes; {needed} needed)")]
    Truncated {
        /// Its size.
        size: u64,
        /// The size it must at least have.
        needed: u64,
    },
    /// A field holds a value no casync index has.
    #[error("the chunk index is not a casync blob index: {field} at byte {at} is {found:#x}")]
    Field {
        /// What the field is.
        field: &'static str,
        /// Its offset in the file.
        at: u64,
        /// What it holds.
        found: u64,
    },
    /// The chunk sizes make no sense.
    #[error("the chunk index has impossible chunk sizes {min}/{avg}/{max}")]
    Sizes {
        /// Minimum.
        min: u64,
        /// Average.
        avg: u64,
        /// Maximum.
        max: u64,
    },
    /// A chunk's end offset is not past the previous one, or a chunk is larger than allowed.
    #[error(
        "the chunk index lists chunk {number} ending at byte {end}, after one ending at {previous} (maximum chunk size {max})"
    )]
    Offsets {
        /// Which chunk (from 0).
        number: u64,
        /// Its end.
        end: u64,
        /// The previous chunk's end.
        previous: u64,
        /// The maximum chunk size.
        max: u64,
    },
    /// Too many chunks to be a real image.
    #[error("the chunk index lists {count} chunks; at most {MAX_CHUNKS} are accepted")]
    TooMany {
        /// How many.
        count: u64,
    },
}

fn u64_at(bytes: &[u8], at: u64) -> u64 {
    let at = at as usize;
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

impl Index {
    /// Reads an index, checking every field.
    pub fn parse(bytes: &[u8]) -> Result<Self, IndexError> {
        let size = bytes.len() as u64;
        let minimum = HEADER_BYTES + TABLE_HEADER_BYTES + TAIL_BYTES;
        if size < minimum {
            return Err(IndexError::Truncated {
                size,
                needed: minimum,
            });
        }
        let expect = |field, at, wanted: u64| {
            let found = u64_at(bytes, at);
            if found == wanted {
                Ok(())
            } else {
                Err(IndexError::Field { field, at, found })
            }
        };
        expect("the header size", 0, HEADER_BYTES)?;
        expect("the header type", 8, INDEX_TYPE)?;
        let flags = u64_at(bytes, 16);
        if flags & SHA512_256 == 0 {
            // SHA-256 ids: chunks could not be checked here. (The other flags say how a
            // directory tree was encoded: nothing a blob depends on.)
            return Err(IndexError::Field {
                field: "the feature flags",
                at: 16,
                found: flags,
            });
        }
        let sizes = ChunkSizes {
            min: u64_at(bytes, 24),
            avg: u64_at(bytes, 32),
            max: u64_at(bytes, 40),
        };
        let (limit_min, limit_max) = CHUNK_SIZE_LIMITS;
        if !(limit_min <= sizes.min
            && sizes.min <= sizes.avg
            && sizes.avg <= sizes.max
            && sizes.max <= limit_max)
        {
            return Err(IndexError::Sizes {
                min: sizes.min,
                avg: sizes.avg,
                max: sizes.max,
            });
        }
        expect("the table size", 48, u64::MAX)?;
        expect("the table type", 56, TABLE_TYPE)?;
        let items = size - minimum;
        if !items.is_multiple_of(ITEM_BYTES) {
            return Err(IndexError::Truncated {
                size,
                needed: minimum + (items / ITEM_BYTES + 1) * ITEM_BYTES,
            });
        }
        let count = items / ITEM_BYTES;
        if count > MAX_CHUNKS {
            return Err(IndexError::TooMany { count });
        }
        let tail = size - TAIL_BYTES;
        expect("the tail's first zero field", tail, 0)?;
        expect("the tail's second zero field", tail + 8, 0)?;
        expect("the tail's index offset", tail + 16, HEADER_BYTES)?;
        expect(
            "the tail's table size",
            tail + 24,
            TABLE_HEADER_BYTES + items + TAIL_BYTES,
        )?;
        expect("the tail marker", tail + 32, TAIL_MARKER)?;
        let mut chunks = Vec::with_capacity(count as usize);
        let mut previous = 0;
        for number in 0..count {
            let at = HEADER_BYTES + TABLE_HEADER_BYTES + number * ITEM_BYTES;
            let end = u64_at(bytes, at);
            if end <= previous || end - previous > sizes.max {
                return Err(IndexError::Offsets {
                    number,
                    end,
                    previous,
                    max: sizes.max,
                });
            }
            let start = at as usize + 8;
            chunks.push(Chunk {
                offset: previous,
                size: end - previous,
                id: ChunkId(bytes[start..start + 32].try_into().expect("32 bytes")),
            });
            previous = end;
        }
        Ok(Self {
            flags,
            sizes,
            chunks,
        })
    }

    /// The index as casync writes it.
    pub fn to_bytes(&self) -> Vec<u8> {
        let items = self.chunks.len() as u64 * ITEM_BYTES;
        let mut out =
            Vec::with_capacity((HEADER_BYTES + TABLE_HEADER_BYTES + items + TAIL_BYTES) as usize);
        for field in [
            HEADER_BYTES,
            INDEX_TYPE,
            self.flags,
            self.sizes.min,
            self.sizes.avg,
            self.sizes.max,
            u64::MAX,
            TABLE_TYPE,
        ] {
            out.extend_from_slice(&field.to_le_bytes());
        }
        for chunk in &self.chunks {
            out.extend_from_slice(&(chunk.offset + chunk.size).to_le_bytes());
            out.extend_from_slice(&chunk.id.0);
        }
        for field in [
            0,
            0,
            HEADER_BYTES,
            TABLE_HEADER_BYTES + items + TAIL_BYTES,
            TAIL_MARKER,
        ] {
            out.extend_from_slice(&field.to_le_bytes());
        }
        out
    }

    /// The size of the blob.
    pub fn blob_size(&self) -> u64 {
        self.chunks.last().map_or(0, |c| c.offset + c.size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Index {
        let a = vec![1u8; 100];
        let b = vec![2u8; 50];
        Index {
            flags: BLOB_FLAGS,
            sizes: ChunkSizes {
                min: 16,
                avg: 64,
                max: 256,
            },
            chunks: vec![
                Chunk {
                    offset: 0,
                    size: 100,
                    id: ChunkId::of(&a),
                },
                Chunk {
                    offset: 100,
                    size: 50,
                    id: ChunkId::of(&b),
                },
            ],
        }
    }

    #[test]
    fn an_index_reads_back_what_was_written() {
        let index = sample();
        let bytes = index.to_bytes();
        assert_eq!(bytes.len(), 48 + 16 + 2 * 40 + 40);
        assert_eq!(Index::parse(&bytes), Ok(index.clone()));
        assert_eq!(index.blob_size(), 150);
        assert!(index.chunks[0].id.store_path().ends_with(".cacnk"));
        assert_eq!(&index.chunks[0].id.store_path()[4..5], "/");
    }

    #[test]
    fn every_damaged_field_is_an_error_naming_it() {
        let good = sample().to_bytes();
        // No changed byte outside the ids (which only the chunk's bytes can confirm) reads
        // as the same index; one in the fixed structure (header, table header, tail) is an
        // error. A changed flag, size or end offset may still be a valid, different index.
        let ids = |at: usize| (72..104).contains(&at) || (112..144).contains(&at);
        let fixed = |at: usize| at < 16 || (48..64).contains(&at) || at >= 144;
        for at in (0..good.len()).filter(|&at| !ids(at)) {
            let mut bad = good.clone();
            bad[at] ^= 0x01;
            let parsed = Index::parse(&bad);
            assert_ne!(parsed, Ok(sample()), "byte {at}");
            if fixed(at) {
                assert!(parsed.is_err(), "byte {at} changed and still read");
            }
        }
        assert!(matches!(
            Index::parse(&good[..good.len() - 1]),
            Err(IndexError::Truncated { .. })
        ));
        assert!(matches!(
            Index::parse(&good[..20]),
            Err(IndexError::Truncated { .. })
        ));
        let mut sha256 = sample();
        sha256.flags = BLOB_FLAGS & !SHA512_256;
        assert!(matches!(
            Index::parse(&sha256.to_bytes()),
            Err(IndexError::Field { at: 16, .. })
        ));
        let mut backwards = sample();
        backwards.chunks[1].size = 0;
        assert!(matches!(
            Index::parse(&backwards.to_bytes()),
            Err(IndexError::Offsets { number: 1, .. })
        ));
        let mut oversized = sample();
        oversized.chunks[0].size = 257;
        assert!(matches!(
            Index::parse(&oversized.to_bytes()),
            Err(IndexError::Offsets { number: 0, .. })
        ));
    }

    #[test]
    fn an_empty_blob_has_an_empty_table() {
        let empty = Index {
            chunks: Vec::new(),
            ..sample()
        };
        assert_eq!(Index::parse(&empty.to_bytes()), Ok(empty));
    }
}
