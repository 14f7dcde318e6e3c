//! libsodium's base64, variant `URLSAFE_NO_PADDING` (libsodium-wrappers' default): `to_base64`
//! and `from_base64` as the legacy `AdvancedCryptoService` called them.
//!
//! Decoding follows `sodium_base642bin(..., ignore = NULL, ..., &b64_end, URLSAFE_NO_PADDING)` and
//! the wrapper's two checks after it, in their order:
//!
//! 1. the characters are read while they are in the URL-safe alphabet (`A-Z a-z 0-9 - _`);
//!    reading stops at the first other character (`=`, `+`, `/`, white space, anything);
//! 2. "invalid input" if what was read leaves more than 4 bits over (one character alone after
//!    the last complete byte), or leaves non-zero bits over (a non-canonical last character);
//! 3. otherwise "incomplete input" if reading stopped before the end of the string.
//!
//! So padding, white space and the standard alphabet's `+` and `/` are all errors, and every byte
//! string has exactly one accepted encoding.
//!
//! One deliberate difference from libsodium-wrappers 0.7.x (its libsodium compiled to wasm):
//! there, `sodium_base642bin` passed a plain (signed) `char` to the decoding function, so every
//! byte >= 0x80 of the UTF-8 input was sign-extended and decoded as the digit 63 (`'_'`):
//! `from_base64('ÃÃÃÃ')` returns six 0xFF bytes. libsodium fixed that upstream (the character is
//! now read as `unsigned char`, and such bytes are rejected); this module does what the fixed
//! libsodium does: a non-ASCII character stops the reading like any other character outside the
//! alphabet. `to_base64` only ever produces ASCII, so no data written by the legacy code is
//! affected; only strings the legacy reader would have misread are refused.
//!
//! The decoder works on UTF-16 code units (what JavaScript holds) or on bytes; both give the same
//! result for the same text, since a non-ASCII character stops the reading either way.

use std::fmt;

/// Why a string is not libsodium base64, with libsodium-wrappers' own messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base64Error {
    /// `sodium_base642bin` failed: a dangling character or non-zero leftover bits.
    InvalidInput,
    /// Decoding stopped at a character outside the alphabet before the end of the string.
    IncompleteInput,
}

impl Base64Error {
    /// The message libsodium-wrappers' `from_base64` throws for this case.
    pub const fn message(self) -> &'static str {
        match self {
            Base64Error::InvalidInput => "invalid input",
            Base64Error::IncompleteInput => "incomplete input",
        }
    }
}

impl fmt::Display for Base64Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Base64Error {}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Digit values of the ASCII characters; 0xFF marks a character outside the alphabet.
const VALUES: [u8; 128] = {
    let mut t = [0xFFu8; 128];
    let mut i = 0;
    while i < 64 {
        t[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// Length of `to_base64` of `n` bytes: `4 * floor(n / 3)` plus 2 or 3 for a partial group.
pub const fn encoded_len(n: usize) -> usize {
    let rem = n % 3;
    (n / 3) * 4 + if rem == 0 { 0 } else { rem + 1 }
}

/// libsodium-wrappers' `to_base64(bytes)`: URL-safe alphabet, no padding.
pub fn to_base64(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(encoded_len(bytes.len()));
    encode_into(bytes, &mut out);
    // Only alphabet characters were written.
    String::from_utf8(out).unwrap_or_default()
}

/// `to_base64` appended to `out` as ASCII bytes.
pub fn encode_into(bytes: &[u8], out: &mut Vec<u8>) {
    let mut chunks = bytes.chunks_exact(3);
    for c in &mut chunks {
        let n = (c[0] as u32) << 16 | (c[1] as u32) << 8 | c[2] as u32;
        out.extend_from_slice(&[
            ALPHABET[(n >> 18) as usize & 63],
            ALPHABET[(n >> 12) as usize & 63],
            ALPHABET[(n >> 6) as usize & 63],
            ALPHABET[n as usize & 63],
        ]);
    }
    match *chunks.remainder() {
        [a] => out.extend_from_slice(&[ALPHABET[(a >> 2) as usize], ALPHABET[((a & 3) << 4) as usize]]),
        [a, b] => out.extend_from_slice(&[
            ALPHABET[(a >> 2) as usize],
            ALPHABET[(((a & 3) << 4) | (b >> 4)) as usize],
            ALPHABET[((b & 15) << 2) as usize],
        ]),
        _ => {}
    }
}

/// A code unit or byte of the input.
pub trait Unit: Copy {
    fn value(self) -> u8;
}

impl Unit for u8 {
    #[inline(always)]
    fn value(self) -> u8 {
        if self < 128 { VALUES[self as usize] } else { 0xFF }
    }
}

impl Unit for u16 {
    #[inline(always)]
    fn value(self) -> u8 {
        if self < 128 { VALUES[self as usize] } else { 0xFF }
    }
}

/// libsodium-wrappers' `from_base64(s)` (variant `URLSAFE_NO_PADDING`), on code units or bytes.
pub fn decode<T: Unit>(input: &[T]) -> Result<Vec<u8>, Base64Error> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 2);
    // Fast path: whole groups of four alphabet characters (no early exit inside a group).
    let mut pos = 0;
    for group in input.chunks_exact(4) {
        let (a, b, c, d) = (group[0].value(), group[1].value(), group[2].value(), group[3].value());
        if (a | b | c | d) & 0xC0 != 0 {
            break;
        }
        let n = (a as u32) << 18 | (b as u32) << 12 | (c as u32) << 6 | d as u32;
        out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
        pos += 4;
    }
    // The rest, character by character, exactly as `sodium_base642bin`. At a group boundary no
    // bits are pending, so starting over with an empty accumulator is the same computation.
    let mut acc: u32 = 0;
    let mut acc_len: u32 = 0;
    while pos < input.len() {
        let d = input[pos].value();
        if d == 0xFF {
            break;
        }
        acc = (acc << 6) | d as u32;
        acc_len += 6;
        if acc_len >= 8 {
            acc_len -= 8;
            out.push((acc >> acc_len) as u8);
        }
        pos += 1;
    }
    if acc_len > 4 || acc & ((1u32 << acc_len) - 1) != 0 {
        return Err(Base64Error::InvalidInput);
    }
    if pos != input.len() {
        return Err(Base64Error::IncompleteInput);
    }
    Ok(out)
}

/// `from_base64` of a Rust string (its UTF-8 bytes; tests and tools).
pub fn from_base64(s: &str) -> Result<Vec<u8>, Base64Error> {
    decode(s.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    #[test]
    fn encodes_as_libsodium() {
        assert_eq!(to_base64(b""), "");
        assert_eq!(to_base64(&[0xfb, 0xff]), "-_8");
        assert_eq!(to_base64(&[0]), "AA");
        assert_eq!(to_base64(&[0, 0]), "AAA");
        assert_eq!(to_base64(&[0, 0, 0]), "AAAA");
        assert_eq!(to_base64(b"hello"), "aGVsbG8");
        for n in 0..50 {
            assert_eq!(to_base64(&vec![7u8; n]).len(), encoded_len(n));
        }
    }

    #[test]
    fn decodes_as_libsodium() {
        // Each case as libsodium-wrappers 0.7.16 answered it.
        let ok = |s: &str, hex: &[u8]| assert_eq!(decode(&units(s)).as_deref(), Ok(hex), "{s:?}");
        let err = |s: &str, e: Base64Error| assert_eq!(decode(&units(s)), Err(e), "{s:?}");
        ok("", &[]);
        ok("AA", &[0]);
        ok("AAA", &[0, 0]);
        ok("AAAA", &[0, 0, 0]);
        ok("a-b_", &[0x6b, 0xe6, 0xff]);
        err("A", Base64Error::InvalidInput);
        err("AB", Base64Error::InvalidInput);
        err("AAB", Base64Error::InvalidInput);
        err("AA==", Base64Error::IncompleteInput);
        err("AA=", Base64Error::IncompleteInput);
        err("AAA=", Base64Error::IncompleteInput);
        err("AA A", Base64Error::IncompleteInput);
        err(" AA", Base64Error::IncompleteInput);
        err("AA\n", Base64Error::IncompleteInput);
        err("a+b/", Base64Error::InvalidInput);
        err("AAAA\0", Base64Error::IncompleteInput);
        err("AB!", Base64Error::InvalidInput);
        err("AA!", Base64Error::IncompleteInput);
        err("AAB!", Base64Error::InvalidInput);
        // Non-ASCII stops the reading (the fixed libsodium; see the module docs).
        err("AAAA\u{e9}", Base64Error::IncompleteInput);
        err("A\u{c3}", Base64Error::InvalidInput);
        err("\u{c3}\u{c3}\u{c3}\u{c3}", Base64Error::IncompleteInput);
        assert_eq!(decode(&[0xD800u16]), Err(Base64Error::IncompleteInput));
    }

    #[test]
    fn units_and_bytes_agree() {
        for s in ["", "AA", "AAAA\u{e9}", "A\u{c3}", "aGVsbG8", "aGVsbG8=", "AAAAAAAAB", "AAAAAA\u{0100}A"] {
            assert_eq!(decode(&units(s)), from_base64(s), "{s:?}");
        }
    }

    #[test]
    fn round_trip_and_canonical() {
        for n in 0..70 {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            let enc = to_base64(&bytes);
            assert_eq!(decode(&units(&enc)).unwrap(), bytes);
            // Any other last character of a partial group is rejected (canonical trailing bits).
            if n % 3 != 0 {
                let last = enc.as_bytes()[enc.len() - 1];
                for &c in ALPHABET.iter().filter(|&&c| c != last) {
                    let mut other = enc.clone().into_bytes();
                    *other.last_mut().unwrap() = c;
                    let other = String::from_utf8(other).unwrap();
                    if let Ok(b) = from_base64(&other) {
                        assert_eq!(to_base64(&b), other, "two encodings of one byte string");
                    }
                }
            }
        }
    }

    #[test]
    fn error_position_in_every_group_position() {
        // A bad character at every position of a long valid string: the fast path hands over to
        // the exact path at the right place.
        let enc = to_base64(&[0x5au8; 30]);
        for bad in 0..enc.len() {
            let mut s: Vec<u16> = units(&enc);
            s[bad] = b'=' as u16;
            let expected_bits = (bad * 6) % 8;
            let r = decode(&s);
            assert!(r.is_err());
            if expected_bits > 4 {
                assert_eq!(r, Err(Base64Error::InvalidInput));
            }
        }
    }
}
