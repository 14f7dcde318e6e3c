//! Hex codecs with Node's exact quirks, and the text rules the legacy data depends on.
//!
//! JavaScript strings are sequences of UTF-16 code units. Node's hex decoder reads each code unit
//! truncated to its low byte (so `'İ'`, U+0130, reads as `'0'`), stops at the first pair that is
//! not hex, and ignores a trailing odd nibble. The functions here take code units so that they see
//! exactly what Node saw, lone surrogates included.

/// Digit values by byte; 0xFF marks a byte that is not a hex digit.
const HEX_VALUES: [u8; 256] = {
    let mut t = [0xFFu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// One hex digit by arithmetic (same result as the table), for the vectorized block decoder.
#[inline(always)]
fn nibble(unit: u16) -> (u8, bool) {
    let c = unit as u8; // Node's truncation to the low byte
    let digit = c.wrapping_sub(b'0');
    let letter = (c | 0x20).wrapping_sub(b'a');
    let is_digit = digit < 10;
    (if is_digit { digit } else { letter.wrapping_add(10) }, is_digit | (letter < 6))
}

/// Value of one hex digit, after Node's truncation of the code unit to its low byte.
#[inline]
fn hex_value(unit: u16) -> Option<u8> {
    let v = HEX_VALUES[(unit & 0xFF) as usize];
    (v != 0xFF).then_some(v)
}

/// `Buffer.from(s, 'hex')`: upper or lower case, stops at the first pair that is not hex,
/// drops a trailing odd nibble, never fails.
pub fn decode_hex_lenient(units: &[u16]) -> Vec<u8> {
    let mut out = vec![0u8; units.len() / 2];
    let mut done = 0;
    // Sixteen bytes at a time, arithmetic instead of a table and one validity test per block:
    // no early exit and no lookups inside, so the compiler vectorizes it.
    for (dst, src) in out.chunks_exact_mut(16).zip(units.chunks_exact(32)) {
        let mut ok = true;
        let mut block = [0u8; 16];
        for (i, b) in block.iter_mut().enumerate() {
            let (hi, hi_ok) = nibble(src[2 * i]);
            let (lo, lo_ok) = nibble(src[2 * i + 1]);
            ok &= hi_ok & lo_ok;
            *b = hi << 4 | lo;
        }
        if !ok {
            break;
        }
        dst.copy_from_slice(&block);
        done += 16;
    }
    // The tail, and the block holding the first non-digit, a pair at a time.
    for (o, pair) in out[done..].iter_mut().zip(units[done * 2..].chunks_exact(2)) {
        let (hi, lo) = (HEX_VALUES[(pair[0] & 0xFF) as usize], HEX_VALUES[(pair[1] & 0xFF) as usize]);
        if (hi | lo) > 0x0F {
            break;
        }
        *o = hi << 4 | lo;
        done += 1;
    }
    out.truncate(done);
    out
}

/// The position of the first `unit` in `units`, scanning 16 code units at a time (the
/// fixed-size inner test has no early exit, so it vectorizes).
pub fn find_unit(units: &[u16], unit: u16) -> Option<usize> {
    let mut base = 0;
    let mut chunks = units.chunks_exact(16);
    for chunk in &mut chunks {
        if chunk.iter().fold(false, |acc, &u| acc | (u == unit)) {
            return chunk.iter().position(|&u| u == unit).map(|i| base + i);
        }
        base += 16;
    }
    chunks.remainder().iter().position(|&u| u == unit).map(|i| base + i)
}

/// `Buffer.from(s, 'hex')` when the result must be exactly `N` bytes (an IV): `None` for any
/// other length, without decoding more than `N + 1` bytes.
pub fn decode_hex_lenient_exact<const N: usize>(units: &[u16]) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    let mut n = 0;
    for pair in units.chunks_exact(2) {
        match (hex_value(pair[0]), hex_value(pair[1])) {
            (Some(hi), Some(lo)) if n < N => out[n] = hi << 4 | lo,
            (Some(_), Some(_)) => return None,
            _ => break,
        }
        n += 1;
    }
    (n == N).then_some(out)
}

/// `decipher.update(s, 'hex')`: an odd number of code units is an error (Node checks the length
/// before decoding); otherwise the lenient decoding above.
pub fn decode_hex_update(units: &[u16]) -> crate::error::Result<Vec<u8>> {
    if units.len() % 2 != 0 {
        return Err(crate::error::CryptoError::odd_hex(units.len()));
    }
    Ok(decode_hex_lenient(units))
}

/// The two lower-case digits of every byte.
const HEX_PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [DIGITS[i >> 4], DIGITS[i & 15]];
        i += 1;
    }
    t
};

/// Lower-case hex (Node's `toString('hex')`), appended to `out`: ASCII bytes, ready to become a
/// `String` (see [`ascii_to_string`]).
pub fn encode_hex_into(bytes: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + bytes.len() * 2, 0);
    for (dst, &b) in out[start..].chunks_exact_mut(2).zip(bytes) {
        dst.copy_from_slice(&HEX_PAIRS[b as usize]);
    }
}

/// Bytes this module produced as ASCII, as a `String`.
pub fn ascii_to_string(bytes: Vec<u8>) -> String {
    // Only hex digits and ':' are ever passed here; validation of ASCII is a fast scan.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

pub fn encode_hex(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    encode_hex_into(bytes, &mut out);
    ascii_to_string(out)
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
    fn exact_length_decoding() {
        let iv = "000102030405060708090a0b0c0d0e0f";
        assert_eq!(decode_hex_lenient_exact::<16>(&utf16_units(iv)), Some(core::array::from_fn(|i| i as u8)));
        assert_eq!(decode_hex_lenient_exact::<16>(&utf16_units(&format!("{iv}zz"))).map(|a| a[15]), Some(15));
        assert_eq!(decode_hex_lenient_exact::<16>(&utf16_units(&format!("{iv}0"))).map(|a| a[15]), Some(15));
        assert_eq!(decode_hex_lenient_exact::<16>(&utf16_units(&format!("{iv}00"))), None);
        assert_eq!(decode_hex_lenient_exact::<16>(&utf16_units(&iv[2..])), None);
    }

    #[test]
    fn block_decoder_agrees_with_the_table_on_every_unit() {
        for u in 0..=u16::MAX {
            let (v, ok) = nibble(u);
            assert_eq!(hex_value(u), ok.then_some(v), "unit {u:#06x}");
        }
        // A non-digit at every position of a long run: the decoder stops exactly there.
        let digits: Vec<u16> = utf16_units(&"0f".repeat(40));
        for bad in 0..digits.len() {
            let mut units = digits.clone();
            units[bad] = b'g' as u16;
            assert_eq!(decode_hex_lenient(&units).len(), bad / 2);
        }
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
