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

/// One hex digit by arithmetic (same result as the table), for the portable block decoder.
#[cfg(any(test, not(target_arch = "x86_64")))]
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
    let n = decode_hex_lenient_into(units, &mut out);
    out.truncate(n);
    out
}

/// [`decode_hex_lenient`] into `out` (at least `units.len() / 2` bytes); returns the length.
pub fn decode_hex_lenient_into(units: &[u16], out: &mut [u8]) -> usize {
    let out = &mut out[..units.len() / 2];
    // Sixteen bytes at a time while every digit is valid; the block with the first non-digit (or
    // with a code unit above 0xFF, which the fast path does not truncate) and the tail go through
    // the exact pair-by-pair loop below.
    let mut done = 0;
    for (dst, src) in out.chunks_exact_mut(16).zip(units.chunks_exact(32)) {
        let src: &[u16; 32] = src.try_into().expect("chunks_exact(32)");
        match decode_block(src) {
            Some(block) => dst.copy_from_slice(&block),
            None => break,
        }
        done += 16;
    }
    for (o, pair) in out[done..].iter_mut().zip(units[done * 2..].chunks_exact(2)) {
        match (hex_value(pair[0]), hex_value(pair[1])) {
            (Some(hi), Some(lo)) => *o = hi << 4 | lo,
            _ => break,
        }
        done += 1;
    }
    done
}

/// 32 hex digits (as code units below 0x100) to 16 bytes, or `None` if any is not a digit.
#[cfg(target_arch = "x86_64")]
fn decode_block(src: &[u16; 32]) -> Option<[u8; 16]> {
    use core::arch::x86_64::*;
    // SAFETY: SSE2 is part of the x86_64 baseline; the four unaligned loads read exactly the 64
    // bytes of `src`, and the store writes exactly the 16 bytes of `out`.
    unsafe {
        let p = src.as_ptr().cast::<__m128i>();
        let (a, b, c, d) = (_mm_loadu_si128(p), _mm_loadu_si128(p.add(1)), _mm_loadu_si128(p.add(2)), _mm_loadu_si128(p.add(3)));
        // A unit above 0xFF would saturate in the pack: refuse the block (the exact loop handles it).
        let high = _mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d));
        if _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_and_si128(high, _mm_set1_epi16(0xFF00u16 as i16)), _mm_setzero_si128())) != 0xFFFF {
            return None;
        }
        let chars = [_mm_packus_epi16(a, b), _mm_packus_epi16(c, d)];
        let mut values = [_mm_setzero_si128(); 2];
        for (v, &ch) in values.iter_mut().zip(chars.iter()) {
            let digit = _mm_sub_epi8(ch, _mm_set1_epi8(b'0' as i8));
            let is_digit = _mm_cmpeq_epi8(_mm_min_epu8(digit, _mm_set1_epi8(9)), digit);
            let letter = _mm_sub_epi8(_mm_or_si128(ch, _mm_set1_epi8(0x20)), _mm_set1_epi8(b'a' as i8));
            let is_letter = _mm_cmpeq_epi8(_mm_min_epu8(letter, _mm_set1_epi8(5)), letter);
            if _mm_movemask_epi8(_mm_or_si128(is_digit, is_letter)) != 0xFFFF {
                return None;
            }
            let letter_value = _mm_add_epi8(letter, _mm_set1_epi8(10));
            *v = _mm_or_si128(_mm_and_si128(is_digit, digit), _mm_andnot_si128(is_digit, letter_value));
        }
        // Each 16-bit lane holds (high digit, low digit): combine to high << 4 | low.
        let lo_byte = _mm_set1_epi16(0x00FF);
        let combine = |v: __m128i| _mm_or_si128(_mm_slli_epi16(_mm_and_si128(v, lo_byte), 4), _mm_srli_epi16(v, 8));
        let bytes = _mm_packus_epi16(combine(values[0]), combine(values[1]));
        let mut out = [0u8; 16];
        _mm_storeu_si128(out.as_mut_ptr().cast(), bytes);
        Some(out)
    }
}

/// Portable fallback of the block decoder.
#[cfg(not(target_arch = "x86_64"))]
fn decode_block(src: &[u16; 32]) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    let mut ok = true;
    for (i, b) in out.iter_mut().enumerate() {
        let (hi, hi_ok) = nibble(src[2 * i]);
        let (lo, lo_ok) = nibble(src[2 * i + 1]);
        ok &= hi_ok & lo_ok & (src[2 * i] | src[2 * i + 1] < 0x100);
        *b = hi << 4 | lo;
    }
    ok.then_some(out)
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
    // On the stack (this runs on every decrypt): N pairs must all decode, and the pair after
    // them, if there is one, must not (else the result would be longer than N).
    let mut out = [0u8; N];
    if decode_hex_lenient_into(&units[..units.len().min(2 * N)], &mut out) != N {
        return None;
    }
    match units.get(2 * N..2 * N + 2) {
        Some(&[hi, lo]) if hex_value(hi).is_some() && hex_value(lo).is_some() => None,
        _ => Some(out),
    }
}

/// `decipher.update(s, 'hex')`: an odd number of code units is an error (Node checks the length
/// before decoding); otherwise the lenient decoding above.
pub fn decode_hex_update(units: &[u16]) -> crate::error::Result<Vec<u8>> {
    if !units.len().is_multiple_of(2) {
        return Err(crate::error::CryptoError::odd_hex(units.len()));
    }
    let mut out = crate::error::try_zeroed(units.len() / 2)?;
    let n = decode_hex_lenient_into(units, &mut out);
    out.truncate(n);
    Ok(out)
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
        Err(e) => {
            let s = String::from_utf8_lossy(e.as_bytes()).into_owned();
            // The invalid original is plaintext too: wipe it rather than just freeing it.
            let mut original = e.into_bytes();
            zeroize::Zeroize::zeroize(&mut original);
            s
        }
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
        assert!(decode_hex_lenient_exact::<16>(&utf16_units(&format!("{iv}0z"))).is_some());
        // U+0130 truncates to '0': the pair after the IV is hex, so the IV is 17 bytes.
        assert_eq!(decode_hex_lenient_exact::<16>(&utf16_units(&format!("{iv}\u{0130}0"))), None);
    }

    #[test]
    fn exact_length_decoding_agrees_with_the_full_decoder() {
        // Every prefix and suffix shape around 16 bytes: lengths 28..=40, a non-digit or a
        // high code unit at each position.
        let digits: Vec<u16> = "0123456789abcdefABCDEF0123456789abcdef0123".encode_utf16().collect();
        for len in 28..=40usize {
            for bad in 0..=len {
                for bad_unit in [b'z' as u16, 0x0130, 0xD800, b':' as u16] {
                    let mut units = digits[..len].to_vec();
                    if bad < len {
                        units[bad] = bad_unit;
                    }
                    let full: Option<[u8; 16]> = decode_hex_lenient(&units).try_into().ok();
                    assert_eq!(decode_hex_lenient_exact::<16>(&units), full, "len {len} bad {bad} unit {bad_unit:#x}");
                }
            }
        }
    }

    #[test]
    fn block_decoder_agrees_with_the_table_on_every_unit() {
        for u in 0..=u16::MAX {
            let (v, ok) = nibble(u);
            assert_eq!(hex_value(u), ok.then_some(v), "unit {u:#06x}");
            // Every unit, at every position of a block, against the exact loop.
            let mut units: Vec<u16> = utf16_units(&"a".repeat(64));
            units[(u as usize) % 64] = u;
            let expect: Vec<u8> = {
                let mut out = Vec::new();
                for pair in units.chunks_exact(2) {
                    match (hex_value(pair[0]), hex_value(pair[1])) {
                        (Some(h), Some(l)) => out.push(h << 4 | l),
                        _ => break,
                    }
                }
                out
            };
            assert_eq!(decode_hex_lenient(&units), expect, "unit {u:#06x}");
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
