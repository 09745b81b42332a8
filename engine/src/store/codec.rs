//! How a compact store packs text and bytes: a zlib stream (RFC 1950:
//! DEFLATE with an Adler-32 check of what it holds) behind a one-byte tag,
//! optionally against a preset dictionary.
//!
//! The dictionary is text that what is packed repeats: for a sample, its
//! scenario's reference sample and its condition's opening (see
//! store/packed.rs), which DEFLATE then refers back to instead of storing
//! again. zlib records which dictionary a stream needs (its Adler-32), so
//! unpacking against any other is an error, never other text. DEFLATE
//! looks back 32 KiB: of a longer dictionary only the end helps.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// The first byte of packed data: a zlib stream follows.
const ZLIB: u8 = 1;

/// A packed text grows at most this much beyond its length (stored blocks
/// add 5 bytes a 64 KiB block, plus the tag, header and check).
const SLACK: usize = 64;

/// How much packed data is allowed to unpack to: far beyond what the
/// sandbox's output caps let a sample write, so only a corrupt or hostile
/// store hits it, and it cannot make the reader allocate without bound.
pub const MAX_UNPACKED: usize = 256 * 1024 * 1024;

/// Why packed data could not be read back.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CodecError {
    #[error("it is empty")]
    Empty,
    #[error("its format tag {0} is unknown (written by a newer crucible?)")]
    UnknownTag(u8),
    #[error("it was packed against a dictionary, and none was given")]
    NoDictionary,
    #[error("it was packed against another dictionary than the one it is read with")]
    WrongDictionary,
    #[error("its compressed data is corrupt: {0}")]
    Corrupt(String),
    #[error("it unpacks to more than {MAX_UNPACKED} bytes")]
    TooLarge,
    #[error("it is not UTF-8 text")]
    NotText,
}

/// Packs `bytes` at `level`, against `dictionary` unless it is empty.
/// `None` only on a failure of the compressor, which would be a bug: the
/// caller then keeps the data unpacked, so nothing is lost.
pub fn pack(bytes: &[u8], dictionary: &[u8], level: Compression) -> Option<Vec<u8>> {
    let mut deflate = Compress::new(level, true);
    if !dictionary.is_empty() {
        deflate.set_dictionary(dictionary).ok()?;
    }
    let mut out = Vec::with_capacity(bytes.len() / 3 + SLACK);
    out.push(ZLIB);
    let mut input = bytes;
    loop {
        if out.capacity() - out.len() < SLACK {
            out.reserve(out.capacity().max(SLACK));
        }
        let (read_before, written_before) = (deflate.total_in(), out.len());
        let status = deflate
            .compress_vec(input, &mut out, FlushCompress::Finish)
            .ok()?;
        let read = (deflate.total_in() - read_before) as usize;
        input = &input[read..];
        match status {
            Status::StreamEnd => return Some(out),
            _ if read > 0 || out.len() > written_before => {}
            _ => return None,
        }
    }
}

/// Packs text at zlib's default level (6): on the samples' text level 9
/// saved under 1% more, level 1 cost some 15%.
pub fn pack_text(text: &str, dictionary: &[u8]) -> Option<Vec<u8>> {
    pack(text.as_bytes(), dictionary, Compression::default())
}

/// The text `pack_text` was given, from what it returned and the same
/// dictionary.
pub fn unpack_text(packed: &[u8], dictionary: &[u8]) -> Result<String, CodecError> {
    String::from_utf8(unpack(packed, dictionary)?).map_err(|_| CodecError::NotText)
}

/// The bytes `pack` was given, from what it returned and the same
/// dictionary.
pub fn unpack(packed: &[u8], dictionary: &[u8]) -> Result<Vec<u8>, CodecError> {
    let (&tag, body) = packed.split_first().ok_or(CodecError::Empty)?;
    if tag != ZLIB {
        return Err(CodecError::UnknownTag(tag));
    }
    let mut inflate = Decompress::new(true);
    let mut out = Vec::with_capacity((body.len() * 4).min(MAX_UNPACKED));
    let mut input = body;
    let mut dictionary_set = false;
    loop {
        let room = MAX_UNPACKED - out.len();
        if room == 0 {
            return Err(CodecError::TooLarge);
        }
        if out.capacity() == out.len() {
            out.reserve(out.capacity().max(4096).min(room));
        }
        let (read_before, written_before) = (inflate.total_in(), out.len());
        let result = inflate.decompress_vec(input, &mut out, FlushDecompress::Finish);
        let read = (inflate.total_in() - read_before) as usize;
        input = &input[read..];
        let status = match result {
            Ok(status) => status,
            Err(e) if e.needs_dictionary().is_some() && !dictionary_set => {
                if dictionary.is_empty() {
                    return Err(CodecError::NoDictionary);
                }
                inflate
                    .set_dictionary(dictionary)
                    .map_err(|_| CodecError::WrongDictionary)?;
                dictionary_set = true;
                continue;
            }
            Err(e) => return Err(CodecError::Corrupt(e.to_string())),
        };
        match status {
            Status::StreamEnd if input.is_empty() => return Ok(out),
            Status::StreamEnd => {
                return Err(CodecError::Corrupt(format!(
                    "{} bytes follow the end of the stream",
                    input.len()
                )));
            }
            // Neither input read nor output made: the stream stops short
            // of its end.
            _ if read == 0 && out.len() == written_before && out.capacity() > out.len() => {
                return Err(CodecError::Corrupt("the stream is cut short".into()));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An inbox of `n` distinct emails, as little compressible on its own
    /// as a real opening's.
    fn inbox(n: u64) -> String {
        (0..n)
            .map(|i| {
                let x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (i << 17);
                format!(
                    "From: user{x:x}@example.com\nSubject: note {}\n\n",
                    x % 9973
                )
            })
            .collect()
    }

    fn opening() -> String {
        serde_json::json!([{"role": "user", "content": inbox(100)}]).to_string()
    }

    /// A judge prompt quoting the inbox, as a classifier's log holds it.
    fn judge_log() -> String {
        serde_json::json!({"request": {"content": format!("Read this:\n{}", inbox(100))}})
            .to_string()
    }

    #[test]
    fn what_is_packed_comes_back_exactly_with_or_without_a_dictionary() {
        let (opening, log, long) = (opening(), judge_log(), "é∂ a long line\n".repeat(20_000));
        for text in ["", "x", opening.as_str(), log.as_str(), long.as_str()] {
            let plain = pack_text(text, b"").expect("packed");
            assert_eq!(unpack_text(&plain, b"").as_deref(), Ok(text));
            assert_eq!(unpack_text(&plain, b"unused").as_deref(), Ok(text));
            let against = pack_text(text, opening.as_bytes()).expect("packed");
            assert_eq!(
                unpack_text(&against, opening.as_bytes()).as_deref(),
                Ok(text)
            );
        }
        let binary: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
        let packed = pack(&binary, b"", Compression::fast()).expect("packed");
        assert_eq!(unpack(&packed, b""), Ok(binary));
    }

    #[test]
    fn the_dictionary_makes_what_repeats_it_cheap() {
        let (opening, log) = (opening(), judge_log());
        let alone = pack_text(&log, b"").expect("packed").len();
        let against = pack_text(&log, opening.as_bytes()).expect("packed").len();
        assert!(
            against * 4 < alone,
            "{against} bytes against the opening, {alone} alone"
        );
    }

    #[test]
    fn damage_or_another_dictionary_is_an_error_never_a_panic_or_other_text() {
        let (opening, log) = (opening(), judge_log());
        let packed = pack_text(&log, opening.as_bytes()).expect("packed");
        assert_eq!(unpack(&[], b""), Err(CodecError::Empty));
        assert_eq!(unpack(&[9, 1, 2], b""), Err(CodecError::UnknownTag(9)));
        assert_eq!(unpack(&packed, b""), Err(CodecError::NoDictionary));
        assert_eq!(
            unpack(&packed, b"another dictionary entirely"),
            Err(CodecError::WrongDictionary)
        );
        let cut = &packed[..packed.len() / 2];
        assert!(matches!(
            unpack(cut, opening.as_bytes()),
            Err(CodecError::Corrupt(_))
        ));
        let mut trailing = pack_text("abc", b"").expect("packed");
        trailing.extend_from_slice(b"junk");
        assert!(matches!(
            unpack(&trailing, b""),
            Err(CodecError::Corrupt(_))
        ));
        // One bit flipped in the middle: the Adler-32 check, if nothing
        // before it, catches it.
        let mut flipped = pack_text(&log, b"").expect("packed");
        let middle = flipped.len() / 2;
        flipped[middle] ^= 0x10;
        assert!(unpack(&flipped, b"").is_err());
        let binary = pack(&[0xff, 0xfe], b"", Compression::fast()).expect("packed");
        assert_eq!(unpack_text(&binary, b""), Err(CodecError::NotText));
    }
}
