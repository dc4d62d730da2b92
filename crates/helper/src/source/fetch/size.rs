//! The size of an offered file, from the mirror's answers or the local file, and for a
//! compressed file the size it unpacks to.

use super::{FetchError, Fetcher, Kind, Location};

impl Fetcher {
    /// The size of `name` at `location` (HTTP `HEAD`, or the file's size).
    pub fn size(&self, location: &Location, name: &str) -> Result<u64, FetchError> {
        let url = location.display(name);
        match location {
            Location::Http(_) => {
                let response = self.call(Kind::Small, true, &url, None)?;
                let status = response.status().as_u16();
                // Some mirrors answer GET only (as systemd-sysupdate, which never sends HEAD,
                // needs): ask for the first byte instead and read the size from the answer.
                if matches!(status, 400 | 403 | 405 | 501) {
                    return self.size_by_get(&url);
                }
                if !(200..300).contains(&status) {
                    return Err(FetchError::Status { url, status });
                }
                content_length(&response).ok_or(FetchError::NoSize { url })
            }
            Location::Dir { root, folder, .. } => crate::fsutil::open_beneath(root, folder, name)
                .map_err(|e| e.to_string())
                .and_then(|file| file.metadata().map_err(|e| e.to_string()))
                .map(|m| m.len())
                .map_err(|reason| FetchError::Local { path: url, reason }),
        }
    }
}

/// The `Content-Length` of an answer.
fn content_length<B>(response: &ureq::http::Response<B>) -> Option<u64> {
    response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

impl Fetcher {
    /// The size of the file at `url` from a GET for its first byte: the total of the
    /// `Content-Range` of a 206, or the `Content-Length` of a 200 from a mirror that ignores
    /// ranges (its body is not read).
    fn size_by_get(&self, url: &str) -> Result<u64, FetchError> {
        let response = self.call(Kind::Small, false, url, Some("bytes=0-0"))?;
        let status = response.status().as_u16();
        let size = match status {
            206 => response
                .headers()
                .get("content-range")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit_once('/'))
                .and_then(|(_, total)| total.trim().parse().ok()),
            200..=299 => content_length(&response),
            _ => {
                return Err(FetchError::Status {
                    url: url.to_string(),
                    status,
                });
            }
        };
        size.ok_or(FetchError::NoSize {
            url: url.to_string(),
        })
    }
}

/// The sizes of an offered file: as downloaded, and as installed (unpacked).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct FileSizes {
    /// Bytes to download.
    pub download: u64,
    /// Bytes on the target once unpacked (the same as `download` for plain files).
    pub installed: u64,
}

impl Fetcher {
    /// Up to `max` bytes of `name` from byte `start` on (an HTTP range request).
    pub fn read_range(
        &self,
        location: &Location,
        name: &str,
        start: u64,
        max: u64,
    ) -> Result<Vec<u8>, FetchError> {
        use std::io::{Read, Seek};
        let url = location.display(name);
        match location {
            Location::Http(_) => {
                let range = format!("bytes={start}-");
                let response = self.call(Kind::Small, false, &url, Some(&range))?;
                let status = response.status().as_u16();
                if status == 200 && start > 0 {
                    return Err(FetchError::Compressed {
                        url,
                        reason: "the mirror ignores range requests, which are needed to learn the unpacked size of a compressed file".into(),
                    });
                }
                if !(200..300).contains(&status) {
                    return Err(FetchError::Status { url, status });
                }
                let mut bytes = Vec::new();
                response
                    .into_body()
                    .into_reader()
                    .take(max)
                    .read_to_end(&mut bytes)
                    .map_err(|e| FetchError::Unreachable {
                        url: url.clone(),
                        reason: e.to_string(),
                    })?;
                Ok(bytes)
            }
            Location::Dir { root, folder, .. } => {
                let local = |e: std::io::Error| FetchError::Local {
                    path: url.clone(),
                    reason: e.to_string(),
                };
                let mut file = crate::fsutil::open_beneath(root, folder, name).map_err(|e| {
                    FetchError::Local {
                        path: url.clone(),
                        reason: e.to_string(),
                    }
                })?;
                file.seek(std::io::SeekFrom::Start(start)).map_err(local)?;
                let mut bytes = Vec::new();
                file.take(max).read_to_end(&mut bytes).map_err(local)?;
                Ok(bytes)
            }
        }
    }

    /// The download size of `name` and its size once installed: for a compressed file (by
    /// suffix) the unpacked size its format records, read from its first and last bytes.
    pub fn sizes(&self, location: &Location, name: &str) -> Result<FileSizes, FetchError> {
        use crate::source::compression::{Compression, HEAD_BYTES, TAIL_BYTES};
        let download = self.size(location, name)?;
        let Some(kind) = Compression::of_name(name) else {
            return Ok(FileSizes {
                download,
                installed: download,
            });
        };
        let head = self.read_range(location, name, 0, HEAD_BYTES)?;
        let tail_start = download.saturating_sub(TAIL_BYTES);
        let tail = self.read_range(location, name, tail_start, TAIL_BYTES)?;
        let installed = kind
            .unpacked_size(&head, &tail, download)
            .map_err(|reason| FetchError::Compressed {
                url: location.display(name),
                reason,
            })?;
        Ok(FileSizes {
            download,
            installed,
        })
    }
}
