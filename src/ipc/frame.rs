//! Framing: one JSON value per line, with a size limit per line.
//!
//! A reader never buffers more than the limit: an oversized line is reported
//! as [`FrameError::TooLarge`] and can then be skipped with
//! [`skip_line`], so the connection stays usable.

use std::io::{self, BufRead, Write};

use serde::Serialize;

/// Why a frame could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The socket failed.
    #[error("connection error: {0}")]
    Io(#[from] io::Error),
    /// The line is longer than the limit.
    #[error("message larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The peer closed the connection in the middle of a line.
    #[error("connection closed in the middle of a message")]
    Truncated,
    /// The value could not be encoded.
    #[error("cannot encode message: {0}")]
    Encode(#[from] serde_json::Error),
}

/// Writes `value` as one JSON line and flushes.
pub fn write_frame<W: Write, T: Serialize>(out: &mut W, value: &T) -> Result<(), FrameError> {
    let mut bytes = serde_json::to_vec(value)?;
    bytes.push(b'\n');
    out.write_all(&bytes)?;
    out.flush()?;
    Ok(())
}

/// Reads one line (without its newline) into `buf`, which is cleared first.
/// Returns `Ok(false)` on a clean end of stream before any byte.
pub fn read_frame<R: BufRead>(
    input: &mut R,
    limit: usize,
    buf: &mut Vec<u8>,
) -> Result<bool, FrameError> {
    buf.clear();
    loop {
        let available = match input.fill_buf() {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err.into()),
        };
        if available.is_empty() {
            return if buf.is_empty() {
                Ok(false)
            } else {
                Err(FrameError::Truncated)
            };
        }
        match memchr::memchr(b'\n', available) {
            Some(end) => {
                if buf.len() + end > limit {
                    // Leave the newline for `skip_line`.
                    input.consume(end);
                    return Err(FrameError::TooLarge { limit });
                }
                buf.extend_from_slice(&available[..end]);
                input.consume(end + 1);
                return Ok(true);
            }
            None => {
                let len = available.len();
                if buf.len() + len > limit {
                    return Err(FrameError::TooLarge { limit });
                }
                buf.extend_from_slice(available);
                input.consume(len);
            }
        }
    }
}

/// After [`FrameError::TooLarge`] in the middle of a line, discards input up
/// to and including the next newline, reading at most `max` bytes. Returns
/// whether the newline was reached (otherwise the stream ended or the bound
/// was hit and the connection should be closed).
pub fn skip_line<R: BufRead>(input: &mut R, max: usize) -> io::Result<bool> {
    let mut skipped = 0usize;
    loop {
        let available = match input.fill_buf() {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        if available.is_empty() {
            return Ok(false);
        }
        if let Some(end) = memchr::memchr(b'\n', available) {
            input.consume(end + 1);
            return Ok(true);
        }
        let len = available.len();
        input.consume(len);
        skipped += len;
        if skipped > max {
            return Ok(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufReader;

    #[test]
    fn reads_lines_and_eof() {
        let mut input = BufReader::with_capacity(4, &b"{\"a\":1}\n{}\n"[..]);
        let mut buf = Vec::new();
        assert!(read_frame(&mut input, 100, &mut buf).unwrap());
        assert_eq!(buf, b"{\"a\":1}");
        assert!(read_frame(&mut input, 100, &mut buf).unwrap());
        assert_eq!(buf, b"{}");
        assert!(!read_frame(&mut input, 100, &mut buf).unwrap());
    }

    #[test]
    fn oversized_line_is_reported_then_skipped() {
        let mut data = vec![b'x'; 1000];
        data.extend_from_slice(b"\nok\n");
        let mut input = BufReader::with_capacity(16, &data[..]);
        let mut buf = Vec::new();
        assert!(matches!(
            read_frame(&mut input, 100, &mut buf),
            Err(FrameError::TooLarge { limit: 100 })
        ));
        assert!(skip_line(&mut input, 10_000).unwrap());
        assert!(read_frame(&mut input, 100, &mut buf).unwrap());
        assert_eq!(buf, b"ok");
    }

    #[test]
    fn truncated_line() {
        let mut input = BufReader::new(&b"abc"[..]);
        let mut buf = Vec::new();
        assert!(matches!(
            read_frame(&mut input, 100, &mut buf),
            Err(FrameError::Truncated)
        ));
    }
}
