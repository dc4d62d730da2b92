//! A casync index from a hostile mirror: never panics; an accepted index describes a blob of
//! chunks that follow each other, each within the maximum, and writes back to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use update_center_engine::delta::index::Index;

fuzz_target!(|data: &[u8]| {
    if let Ok(index) = Index::parse(data) {
        let mut end = 0;
        for chunk in &index.chunks {
            assert_eq!(chunk.offset, end);
            assert!(chunk.size > 0 && chunk.size <= index.sizes.max);
            end += chunk.size;
        }
        assert_eq!(index.to_bytes(), data);
    }
});
