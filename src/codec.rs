//! Hex codecs with Node's exact quirks, and the text rules the legacy data depends on.
//!
//! JavaScript strings are sequences of UTF-16 code units. Node's hex decoder reads each code unit
//! truncated to its low byte (so `'İ'`, U+0130, reads as `'0'`), stops at the first pair that is
//! not hex, and ignores a trailing odd nibble. The functions here take code units so that they see
//! exactly what Node saw, lone surrogates included.

/// Value of one hex digit, after Node's truncation of the code unit to its low byte.
#[inline]
fn hex_value(unit: u16) -> Option<u8> {
    match unit as u8 {
        b @ b'0'..=b'9' => Some(b - b'0'),
        b @ b'a'..=b'f' => Some(b - b'a' + 10),
        b @ b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `Buffer.from(s, 'hex')`: upper or lower case, stops at the first pair that is not hex,
/// drops a trailing odd nibble, never fails.
pub fn decode_hex_lenient(units: &[u16]) -> Vec<u8> {
    let mut out = Vec::with_capacity(units.len() / 2);
    for pair in units.chunks_exact(2) {
        match (hex_value(pair[0]), hex_value(pair[1])) {
            (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
            _ => break,
        }
    }
    out
}

/// `decipher.update(s, 'hex')`: an odd number of code units is an error (Node checks the length
/// before decoding); otherwise the lenient decoding above.
pub fn decode_hex_update(units: &[u16]) -> crate::error::Result<Vec<u8>> {
    if units.len() % 2 != 0 {
        return Err(crate::error::CryptoError::odd_hex(units.len()));
    }
    Ok(decode_hex_lenient(units))
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Lower-case hex, appended to `out` (Node's `toString('hex')`).
pub fn encode_hex_into(bytes: &[u8], out: &mut String) {
    out.reserve(bytes.len() * 2);
    for &b in bytes {
        out.push(HEX_DIGITS[(b >> 4) as usize] as char);
        out.push(HEX_DIGITS[(b & 0x0f) as usize] as char);
    }
}

pub fn encode_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    encode_hex_into(bytes, &mut out);
    out
}

/// Decrypted bytes to text as Node's utf8 decoder does: each maximal invalid subpart becomes one
/// U+FFFD (the WHATWG rule, which Rust's lossy decoder follows too). The legacy code decoded in
/// two chunks through a StringDecoder, which gives the same result as decoding the whole buffer.
pub fn decode_utf8_lossy(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// The code units of a Rust string, for callers that hold UTF-8 (tests, the CLI).
pub fn utf16_units(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

/// White space as JavaScript's `String.prototype.trim` sees it (WhiteSpace and LineTerminator).
/// Differs from `char::is_whitespace`: U+FEFF counts, U+0085 does not.
pub fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\u{0009}'..='\u{000D}'
            | '\u{0020}'
            | '\u{00A0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200A}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202F}'
            | '\u{205F}'
            | '\u{3000}'
            | '\u{FEFF}'
    )
}

/// `value.trim() === ''`.
pub fn is_blank_js(s: &str) -> bool {
    s.chars().all(is_js_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lenient(s: &str) -> Vec<u8> {
        decode_hex_lenient(&utf16_units(s))
    }

    #[test]
    fn lenient_hex_matches_node() {
        assert_eq!(lenient("AbCd"), vec![0xab, 0xcd]);
        assert_eq!(lenient("abc"), vec![0xab]);
        assert_eq!(lenient("0g12"), Vec::<u8>::new());
        assert_eq!(lenient("12zz34"), vec![0x12]);
        // Code units are truncated to their low byte: U+0130 reads as '0', U+0161 as 'a'.
        assert_eq!(lenient("\u{0130}a"), vec![0x0a]);
        assert_eq!(lenient("\u{0161}a"), vec![0xaa]);
        assert_eq!(lenient("a\u{0100}"), Vec::<u8>::new());
        // A lone surrogate D830 truncates to '0'.
        assert_eq!(decode_hex_lenient(&[0xD830, 0x31]), vec![0x01]);
    }

    #[test]
    fn update_hex_rejects_odd_length() {
        assert!(decode_hex_update(&utf16_units("abc")).is_err());
        assert_eq!(decode_hex_update(&utf16_units("zz")).unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn hex_round_trip() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(lenient(&encode_hex(&bytes)), bytes);
    }

    #[test]
    fn js_whitespace() {
        assert!(is_blank_js(" \t\n\r\u{FEFF}\u{3000}"));
        assert!(is_blank_js(""));
        assert!(!is_blank_js("\u{0085}"));
        assert!(!is_blank_js(" a "));
    }

    #[test]
    fn lossy_utf8_maximal_subparts() {
        assert_eq!(decode_utf8_lossy(vec![0xe2]), "\u{FFFD}");
        assert_eq!(decode_utf8_lossy(vec![0xf0, 0x80, 0x41]), "\u{FFFD}\u{FFFD}A");
        assert_eq!(decode_utf8_lossy(vec![0xf0, 0x9f, 0x98]), "\u{FFFD}");
        assert_eq!(decode_utf8_lossy(vec![0xed, 0xa0, 0x80]), "\u{FFFD}\u{FFFD}\u{FFFD}");
    }
}
