//! Downloading a payload: resumed after a broken connection, bounded by the stall, rate and
//! deadline rules, throttled to the administrator's bandwidth limit, hashed as it arrives.

use super::{FetchError, Fetcher, Kind, Location, RETRIES};
use std::time::Duration;

/// How one attempt of a download ended early.
enum Interrupted {
    /// The connection broke or the mirror had a passing failure: resume.
    Transient(FetchError),
    /// The mirror ignored the range request: start again from zero.
    Restart,
    /// No point in trying again.
    Fatal(FetchError),
}

/// Bytes read and written at a time while downloading.
const CHUNK_BYTES: usize = 1024 * 1024;

/// How long to pause so that `bytes` read in `elapsed` stay at or under `rate` bytes per second.
pub fn throttle_delay(bytes: u64, rate: u64, elapsed: Duration) -> Duration {
    if rate == 0 {
        return Duration::ZERO;
    }
    let due = Duration::from_secs_f64(bytes as f64 / rate as f64);
    due.saturating_sub(elapsed)
}

impl Fetcher {
    /// Limits payload downloads to `bytes_per_sec` (none: as fast as the link goes).
    pub fn with_max_rate(mut self, bytes_per_sec: Option<u64>) -> Self {
        self.max_rate_bytes_per_sec = bytes_per_sec.filter(|r| *r > 0);
        self
    }

    /// The bandwidth limit, in bytes per second (none: as fast as the link goes).
    pub fn max_rate(&self) -> Option<u64> {
        self.max_rate_bytes_per_sec
    }

    /// Streams `name` from `location` into `out`, hashing as it goes; returns the SHA-256 (hex)
    /// and the number of bytes. A connection that breaks off is resumed with an HTTP range
    /// request (after a short back-off, [`RETRIES`] times); a mirror that answers a range with
    /// the whole file is read from the start again. Stops with an error when `cancel` is set,
    /// and refuses more than `max_bytes` (the size the plan was made for).
    // The arguments are the request (where, what, from which byte, how much at most) and its
    // controls (cancel, progress): a struct for them would only move the list.
    #[allow(clippy::too_many_arguments)]
    pub fn download(
        &self,
        location: &Location,
        name: &str,
        out: &mut std::fs::File,
        resume_from: u64,
        max_bytes: u64,
        cancel: &std::sync::atomic::AtomicBool,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(String, u64), FetchError> {
        use sha2::{Digest, Sha256};
        use std::io::{Read, Seek};
        let url = location.display(name);
        let write_error = |e: std::io::Error| FetchError::Write {
            url: url.clone(),
            reason: e.to_string(),
        };
        let mut hasher = Sha256::new();
        let mut total: u64 = 0;
        if resume_from > 0 {
            // The bytes of an earlier run are hashed again: nothing unverified is trusted.
            out.seek(std::io::SeekFrom::Start(0)).map_err(write_error)?;
            let mut kept = (&mut *out).take(resume_from);
            let mut buffer = vec![0u8; CHUNK_BYTES];
            loop {
                let n = kept.read(&mut buffer).map_err(write_error)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buffer[..n]);
                total += n as u64;
            }
            out.seek(std::io::SeekFrom::Start(total))
                .map_err(write_error)?;
            progress(total);
        }
        let mut attempt = 0;
        let complete_already = resume_from > 0 && total >= max_bytes;
        if !complete_already {
            loop {
                let result = self.download_from(
                    location,
                    name,
                    &url,
                    total,
                    out,
                    &mut hasher,
                    &mut total,
                    max_bytes,
                    cancel,
                    progress,
                );
                match result {
                    Ok(()) => break,
                    // A file kept from an earlier run may be complete already.
                    Err(Interrupted::Fatal(FetchError::Status { status: 416, .. }))
                        if total == max_bytes =>
                    {
                        break;
                    }
                    Err(Interrupted::Restart) if attempt >= RETRIES => {
                        return Err(FetchError::Unreachable {
                            url: url.clone(),
                            reason: format!(
                                "the mirror answered {} range requests with other bytes than asked for",
                                RETRIES + 1
                            ),
                        });
                    }
                    Err(Interrupted::Restart) => {
                        // The mirror ignored the range: start over (a bounded number of times,
                        // so a mirror that always answers with other bytes cannot loop us).
                        attempt += 1;
                        if cancel.load(std::sync::atomic::Ordering::Relaxed) {
                            return Err(FetchError::Cancelled { url: url.clone() });
                        }
                        hasher = Sha256::new();
                        total = 0;
                        out.set_len(0).map_err(write_error)?;
                        out.seek(std::io::SeekFrom::Start(0)).map_err(write_error)?;
                    }
                    Err(Interrupted::Transient(error))
                        if attempt < RETRIES && matches!(location, Location::Http(_)) =>
                    {
                        attempt += 1;
                        let back_off = Duration::from_millis(250 << attempt);
                        eprintln!(
                            "update-center-helper: {error}; resuming at byte {total} in {back_off:?}"
                        );
                        std::thread::sleep(back_off);
                    }
                    Err(Interrupted::Transient(error) | Interrupted::Fatal(error)) => {
                        return Err(error);
                    }
                }
            }
        }
        let hex: String = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok((hex, total))
    }

    #[allow(clippy::too_many_arguments)]
    fn download_from(
        &self,
        location: &Location,
        name: &str,
        url: &str,
        offset: u64,
        out: &mut impl std::io::Write,
        hasher: &mut sha2::Sha256,
        total: &mut u64,
        max_bytes: u64,
        cancel: &std::sync::atomic::AtomicBool,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), Interrupted> {
        use sha2::Digest;
        use std::io::Read;
        let transient = |reason: String| {
            Interrupted::Transient(FetchError::Unreachable {
                url: url.to_string(),
                reason,
            })
        };
        let mut reader: Box<dyn Read> = match location {
            Location::Http(_) => {
                let range = (offset > 0).then(|| format!("bytes={offset}-"));
                let response = match self.call(Kind::Payload, false, url, range.as_deref()) {
                    Ok(response) => response,
                    Err(FetchError::Unreachable { reason, .. }) => return Err(transient(reason)),
                    Err(other) => return Err(Interrupted::Fatal(other)),
                };
                let status = response.status().as_u16();
                match status {
                    206 => {
                        let start = response
                            .headers()
                            .get("content-range")
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.strip_prefix("bytes "))
                            .and_then(|v| v.split('-').next())
                            .and_then(|v| v.parse::<u64>().ok());
                        if start != Some(offset) {
                            return Err(Interrupted::Restart);
                        }
                    }
                    200 if offset > 0 => return Err(Interrupted::Restart),
                    200..=299 => {}
                    500..=599 => {
                        return Err(Interrupted::Transient(FetchError::Status {
                            url: url.to_string(),
                            status,
                        }));
                    }
                    _ => {
                        return Err(Interrupted::Fatal(FetchError::Status {
                            url: url.to_string(),
                            status,
                        }));
                    }
                }
                response.into_body().into_reader()
            }
            Location::Dir { root, folder, .. } => Box::new(
                crate::fsutil::open_beneath(root, folder, name).map_err(|e| {
                    Interrupted::Fatal(FetchError::Local {
                        path: url.to_string(),
                        reason: e.to_string(),
                    })
                })?,
            ),
        };
        let mut buffer = vec![0u8; CHUNK_BYTES];
        let (started, first_byte) = (std::time::Instant::now(), *total);
        let (mut window_start, mut window_bytes) = (started, 0u64);
        loop {
            if cancel.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(Interrupted::Fatal(FetchError::Cancelled {
                    url: url.to_string(),
                }));
            }
            if std::time::Instant::now() >= self.limits.deadline {
                return Err(Interrupted::Fatal(FetchError::Unreachable {
                    url: url.to_string(),
                    reason: "the download did not finish by its deadline ([Download] DeadlineSec=)"
                        .into(),
                }));
            }
            let n = reader
                .read(&mut buffer)
                .map_err(|e| transient(e.to_string()))?;
            if n == 0 {
                return Ok(());
            }
            *total += n as u64;
            // The minimum rate, over windows as long as the stall limit: a mirror that trickles
            // a byte now and then breaks off like one that stalls, and is resumed.
            window_bytes += n as u64;
            let window = window_start.elapsed();
            if window >= self.limits.stall {
                let rate = window_bytes as f64 / window.as_secs_f64();
                if self.limits.min_rate > 0 && rate < self.limits.min_rate as f64 {
                    return Err(transient(format!(
                        "the mirror sent {window_bytes} bytes in {} s, less than the minimum of {} bytes per second ([Download] MinRateBytesPerSec=)",
                        window.as_secs(),
                        self.limits.min_rate
                    )));
                }
                (window_start, window_bytes) = (std::time::Instant::now(), 0);
            }
            if *total > max_bytes {
                return Err(Interrupted::Fatal(FetchError::TooLarge {
                    url: url.to_string(),
                    max_bytes: usize::try_from(max_bytes).unwrap_or(usize::MAX),
                }));
            }
            hasher.update(&buffer[..n]);
            if let Some(rate) = self.max_rate_bytes_per_sec {
                std::thread::sleep(throttle_delay(*total - first_byte, rate, started.elapsed()));
            }
            out.write_all(&buffer[..n]).map_err(|e| {
                Interrupted::Fatal(FetchError::Write {
                    url: url.to_string(),
                    reason: e.to_string(),
                })
            })?;
            progress(*total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::throttle_delay;
    use std::time::Duration;

    #[test]
    fn the_throttle_waits_only_when_ahead_of_the_rate() {
        assert_eq!(
            throttle_delay(1_000_000, 1_000_000, Duration::from_millis(400)),
            Duration::from_millis(600)
        );
        assert_eq!(
            throttle_delay(1_000_000, 1_000_000, Duration::from_secs(2)),
            Duration::ZERO
        );
        assert_eq!(throttle_delay(5, 0, Duration::ZERO), Duration::ZERO);
    }
}
