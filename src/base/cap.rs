//! Reading no more than a cap of what arrives from the network: the one
//! rule every reader of a response body keeps (fetched sources, their
//! requisites, robots.txt, the soft-404 probe, posts and feeds given by
//! URL). The bytes counted are the *decoded* ones, as they come out of the
//! decompressor: a 2 KB brotli body that inflates to gigabytes is cut at
//! the cap like any other, and the rest is never decompressed, since
//! nothing asks for it.
//!
//! `Cap` is the counter, for a reader that streams the bytes somewhere
//! (a hash, a file); `read_capped` keeps them in memory. Neither knows
//! HTTP: a stream of chunks is all they see.

use futures_util::{Stream, StreamExt};

/// How much of a stream may still be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cap {
    limit: u64,
    taken: u64,
    cut: bool,
}

impl Cap {
    pub fn new(limit: u64) -> Cap {
        Cap {
            limit,
            taken: 0,
            cut: false,
        }
    }

    /// The part of `chunk` that still fits under the cap; when some of it
    /// does not, the stream is marked as cut there.
    pub fn take<'a>(&mut self, chunk: &'a [u8]) -> &'a [u8] {
        let room = self.limit.saturating_sub(self.taken);
        let fits = chunk.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        if fits < chunk.len() {
            self.cut = true;
        }
        self.taken += fits as u64;
        &chunk[..fits]
    }

    /// Bytes taken so far.
    pub fn taken(&self) -> u64 {
        self.taken
    }

    /// Whether the stream went on past the cap: a reader stops here.
    pub fn was_cut(&self) -> bool {
        self.cut
    }
}

/// What `read_capped` kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capped {
    /// At most the cap's bytes.
    pub bytes: Vec<u8>,
    /// The stream went on past the cap (what came after was not read).
    pub cut: bool,
}

/// Reads `stream` into memory, at most `limit` bytes, and stops reading at
/// the first chunk that does not fit (so a stream that ends exactly at the
/// cap is not called cut). A failure of the stream is the answer.
pub async fn read_capped<S, B, E>(stream: S, limit: u64) -> Result<Capped, E>
where
    S: Stream<Item = Result<B, E>>,
    B: AsRef<[u8]>,
{
    let mut stream = std::pin::pin!(stream);
    let mut cap = Cap::new(limit);
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        bytes.extend_from_slice(cap.take(chunk.as_ref()));
        if cap.was_cut() {
            break;
        }
    }
    Ok(Capped {
        bytes,
        cut: cap.was_cut(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(sizes: &[usize]) -> impl Stream<Item = Result<Vec<u8>, ()>> {
        futures_util::stream::iter(sizes.iter().map(|&n| Ok(vec![b'a'; n])).collect::<Vec<_>>())
    }

    fn run<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn a_stream_under_the_cap_is_read_whole() {
        let got = run(read_capped(chunks(&[3, 4]), 10)).unwrap();
        assert_eq!((got.bytes.len(), got.cut), (7, false));
    }

    #[test]
    fn a_stream_that_ends_exactly_at_the_cap_is_not_cut() {
        let got = run(read_capped(chunks(&[5, 5]), 10)).unwrap();
        assert_eq!((got.bytes.len(), got.cut), (10, false));
    }

    #[test]
    fn a_stream_past_the_cap_is_cut_there_and_not_read_further() {
        let polled = std::cell::Cell::new(0);
        let endless = futures_util::stream::repeat_with(|| {
            polled.set(polled.get() + 1);
            Ok::<_, ()>(vec![0u8; 4096])
        });
        let got = run(read_capped(endless, 10_000)).unwrap();
        assert_eq!((got.bytes.len(), got.cut), (10_000, true));
        assert_eq!(polled.get(), 3);
    }

    #[test]
    fn the_counter_cuts_a_chunk_at_the_cap() {
        let mut cap = Cap::new(5);
        assert_eq!(cap.take(b"abc"), b"abc");
        assert_eq!(cap.take(b"defg"), b"de");
        assert!(cap.was_cut());
        assert_eq!(cap.take(b"h"), b"");
        assert_eq!(cap.taken(), 5);
    }
}
