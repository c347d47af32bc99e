//! Compressed input: gzip, zstd, xz and bzip2, told apart by their magic
//! bytes (never by the file name), decoded on a thread of their own.
//!
//! [`Compression::sniff`] names the format from a stream's first bytes.
//! [`Decoded::spawn`] starts a thread that decodes a compressed stream into
//! blocks handed over a bounded channel: the analysis reads decoded bytes
//! while the next blocks are being decoded, and memory stays bounded
//! however far the data expands. Blocks the reader has emptied go back to
//! the decoding thread to be filled again, so a long stream costs no
//! allocation (nor page zeroing) per block. Concatenated members (`cat a.gz b.gz`,
//! several zstd frames or xz streams, `pbzip2` output) are read as one
//! stream. Damage (a truncated or corrupt stream) ends the stream with a
//! [`DecodeError`] that names the offset in the compressed bytes where the
//! decoder stopped; every byte decoded before it is handed out first.

use std::cell::Cell;
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// A compression format velos reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// gzip (RFC 1952), one member or several.
    Gzip,
    /// Zstandard frames.
    Zstd,
    /// xz streams.
    Xz,
    /// bzip2 streams.
    Bzip2,
}

/// Bytes needed to tell every format apart.
pub const MAGIC_LEN: usize = 6;

impl Compression {
    /// The format whose magic bytes start `head`, if any.
    pub fn sniff(head: &[u8]) -> Option<Compression> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Compression::Gzip)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Compression::Zstd)
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
            Some(Compression::Xz)
        } else if head.len() >= 4 && head.starts_with(b"BZh") && (b'1'..=b'9').contains(&head[3]) {
            Some(Compression::Bzip2)
        } else {
            None
        }
    }

    /// The format's usual name.
    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Xz => "xz",
            Compression::Bzip2 => "bzip2",
        }
    }
}

/// A compressed stream that could not be decoded to its end.
#[derive(Debug, thiserror::Error)]
#[error("{format} data is {what} at byte {offset} of the compressed input ({cause})")]
pub struct DecodeError {
    /// The format.
    pub format: &'static str,
    /// "truncated" or "corrupt".
    pub what: &'static str,
    /// Compressed bytes the decoder had consumed when it stopped.
    pub offset: u64,
    /// The decoder's own words.
    pub cause: String,
}

impl DecodeError {
    /// The error as an I/O error (what a [`Read`] hands out), to be found
    /// again with [`DecodeError::of`].
    fn into_io(self) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, self)
    }

    /// The decode error inside an I/O error, if it is one.
    pub fn of(err: &io::Error) -> Option<&DecodeError> {
        err.get_ref().and_then(|e| e.downcast_ref::<DecodeError>())
    }
}

/// Size of the blocks the decoding thread hands over.
const BLOCK: usize = 512 << 10;
/// Blocks decoded ahead of the reader.
const AHEAD: usize = 16;
/// Compressed bytes read at a time.
const INPUT_BUFFER: usize = 128 << 10;

/// Counts the bytes read through it.
struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// One decoder over a buffered, counted input.
enum Decoder<R: Read> {
    Gzip(flate2::bufread::MultiGzDecoder<BufReader<Counting<R>>>),
    Zstd(Box<zstd::stream::read::Decoder<'static, BufReader<Counting<R>>>>),
    Xz(liblzma::bufread::XzDecoder<BufReader<Counting<R>>>),
    Bzip2(bzip2::bufread::MultiBzDecoder<BufReader<Counting<R>>>),
}

impl<R: Read> Decoder<R> {
    fn new(format: Compression, input: BufReader<Counting<R>>) -> io::Result<Decoder<R>> {
        Ok(match format {
            Compression::Gzip => Decoder::Gzip(flate2::bufread::MultiGzDecoder::new(input)),
            Compression::Zstd => {
                Decoder::Zstd(Box::new(zstd::stream::read::Decoder::with_buffer(input)?))
            }
            Compression::Xz => Decoder::Xz(liblzma::bufread::XzDecoder::new_multi_decoder(input)),
            Compression::Bzip2 => Decoder::Bzip2(bzip2::bufread::MultiBzDecoder::new(input)),
        })
    }

    fn input(&self) -> &BufReader<Counting<R>> {
        match self {
            Decoder::Gzip(d) => d.get_ref(),
            Decoder::Zstd(d) => d.get_ref(),
            Decoder::Xz(d) => d.get_ref(),
            Decoder::Bzip2(d) => d.get_ref(),
        }
    }

    /// Whether the input has no bytes left (the damage is a truncation).
    fn input_at_end(&mut self) -> bool {
        let input = match self {
            Decoder::Gzip(d) => d.get_mut(),
            Decoder::Zstd(d) => d.get_mut(),
            Decoder::Xz(d) => d.get_mut(),
            Decoder::Bzip2(d) => d.get_mut(),
        };
        input.fill_buf().is_ok_and(|b| b.is_empty())
    }
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoder::Gzip(d) => d.read(buf),
            Decoder::Zstd(d) => d.read(buf),
            Decoder::Xz(d) => d.read(buf),
            Decoder::Bzip2(d) => d.read(buf),
        }
    }
}

/// The decoded bytes of a compressed stream, produced by a thread of its
/// own and read through [`Read`].
pub struct Decoded {
    blocks: Receiver<io::Result<Vec<u8>>>,
    /// Emptied blocks, sent back to be filled again.
    spent: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
    done: bool,
    /// The decoding thread, joined on drop once it has said its last word.
    worker: Option<JoinHandle<()>>,
}

impl Decoded {
    /// Starts decoding `input` (whose first bytes are `format`'s magic) on
    /// a new thread.
    pub fn spawn<R: Read + Send + 'static>(format: Compression, input: R) -> io::Result<Decoded> {
        let (tx, rx) = sync_channel(AHEAD);
        // Room for every block in flight: returning one never blocks.
        let (spent, returned) = sync_channel(AHEAD + 2);
        let worker = std::thread::Builder::new()
            .name(format!("{}-decode", format.name()))
            .spawn(move || decode(format, input, &tx, &returned))?;
        Ok(Decoded {
            blocks: rx,
            spent,
            current: Vec::new(),
            pos: 0,
            done: false,
            worker: Some(worker),
        })
    }
}

fn decode<R: Read>(
    format: Compression,
    input: R,
    tx: &SyncSender<io::Result<Vec<u8>>>,
    returned: &Receiver<Vec<u8>>,
) {
    let count = Rc::new(Cell::new(0));
    let counted = Counting {
        inner: input,
        count: Rc::clone(&count),
    };
    let mut decoder = match Decoder::new(format, BufReader::with_capacity(INPUT_BUFFER, counted)) {
        Ok(d) => d,
        Err(e) => {
            let _ = tx.send(Err(e));
            return;
        }
    };
    loop {
        let mut block = returned.try_recv().unwrap_or_default();
        // A returned block is BLOCK long already (only the last is shorter).
        block.resize(BLOCK, 0);
        let mut filled = 0;
        let mut failure = None;
        while filled < BLOCK {
            match decoder.read(&mut block[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        let end = failure.is_some() || filled < BLOCK;
        block.truncate(filled);
        if !block.is_empty() && tx.send(Ok(block)).is_err() {
            return; // the reader went away
        }
        if let Some(e) = failure {
            let consumed = count.get() - decoder.input().buffer().len() as u64;
            let truncated = e.kind() == io::ErrorKind::UnexpectedEof || decoder.input_at_end();
            let error = DecodeError {
                format: format.name(),
                what: if truncated { "truncated" } else { "corrupt" },
                offset: consumed,
                cause: e.to_string(),
            };
            let _ = tx.send(Err(error.into_io()));
            return;
        }
        if end {
            return;
        }
    }
}

impl Read for Decoded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.current.len() {
            if self.done {
                return Ok(0);
            }
            match self.blocks.recv() {
                Ok(Ok(block)) => {
                    let spent = std::mem::replace(&mut self.current, block);
                    if spent.capacity() > 0 {
                        // Full or disconnected: the block is dropped instead.
                        let _ = self.spent.try_send(spent);
                    }
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
        let n = buf.len().min(self.current.len() - self.pos);
        buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Drop for Decoded {
    /// A thread that sent its end (or its error) is finishing: wait for
    /// it, so nothing of it outlives the reader. One still decoding is
    /// left to end by itself — its next send fails now that nobody reads —
    /// rather than making the drop wait on its input.
    fn drop(&mut self) {
        if let Some(worker) = self.worker.take().filter(|_| self.done) {
            let _ = worker.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn text() -> Vec<u8> {
        (0..20_000)
            .map(|i| format!("2026-01-01T00:00:{:02}Z INFO line {i}\n", i % 60))
            .collect::<String>()
            .into_bytes()
    }

    fn compress(format: Compression, data: &[u8]) -> Vec<u8> {
        match format {
            Compression::Gzip => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Compression::Zstd => zstd::encode_all(data, 1).unwrap(),
            Compression::Xz => {
                let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Compression::Bzip2 => {
                let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
        }
    }

    const ALL: [Compression; 4] = [
        Compression::Gzip,
        Compression::Zstd,
        Compression::Xz,
        Compression::Bzip2,
    ];

    #[test]
    fn every_format_is_sniffed_and_decoded_with_its_members_joined() {
        let data = text();
        for format in ALL {
            let half = data.len() / 2;
            let mut packed = compress(format, &data[..half]);
            packed.extend(compress(format, &data[half..]));
            assert_eq!(Compression::sniff(&packed), Some(format));
            let mut out = Vec::new();
            Decoded::spawn(format, std::io::Cursor::new(packed))
                .unwrap()
                .read_to_end(&mut out)
                .unwrap();
            assert!(out == data, "{format:?}");
        }
        assert_eq!(Compression::sniff(b"2026-01-01 INFO"), None);
        assert_eq!(Compression::sniff(b"BZh0"), None);
    }

    /// Owns nothing but a count: the decoding thread holds it while alive.
    struct Held {
        _alive: std::sync::Arc<()>,
        input: std::io::Cursor<Vec<u8>>,
    }

    impl Read for Held {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.input.read(buf)
        }
    }

    #[test]
    fn a_stream_read_to_its_end_leaves_no_thread_behind() {
        let alive = std::sync::Arc::new(());
        for format in ALL {
            let packed = compress(format, &text());
            let input = Held {
                _alive: std::sync::Arc::clone(&alive),
                input: std::io::Cursor::new(packed),
            };
            let mut decoded = Decoded::spawn(format, input).unwrap();
            std::io::copy(&mut decoded, &mut std::io::sink()).unwrap();
            drop(decoded);
            assert_eq!(std::sync::Arc::strong_count(&alive), 1, "{format:?}");
        }
    }

    #[test]
    fn damage_hands_out_what_came_before_then_an_offset() {
        let data = text();
        for format in ALL {
            let packed = compress(format, &data);
            let cut = packed.len() * 2 / 3;
            let mut out = Vec::new();
            let err = Decoded::spawn(format, std::io::Cursor::new(packed[..cut].to_vec()))
                .unwrap()
                .read_to_end(&mut out)
                .unwrap_err();
            let decode = DecodeError::of(&err).expect("a decode error");
            assert_eq!(decode.what, "truncated", "{format:?}: {decode}");
            assert_eq!(decode.offset, cut as u64, "{format:?}");
            assert!(data.starts_with(&out), "{format:?}");
            assert!(out.len() > data.len() / 4, "{format:?}: {}", out.len());

            let mut corrupt = packed.clone();
            let at = packed.len() / 2;
            for b in &mut corrupt[at..at + 64] {
                *b ^= 0x5a;
            }
            let mut out = Vec::new();
            let err = Decoded::spawn(format, std::io::Cursor::new(corrupt))
                .unwrap()
                .read_to_end(&mut out)
                .unwrap_err();
            let decode = DecodeError::of(&err).expect("a decode error");
            assert!(decode.offset <= packed.len() as u64, "{format:?}: {decode}");
        }
    }
}
