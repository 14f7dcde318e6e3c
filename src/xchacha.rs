//! XChaCha20-Poly1305 exactly as the legacy `AdvancedCryptoService` used libsodium:
//! `crypto_aead_xchacha20poly1305_ietf_encrypt(from_string(data), null, null, nonce, masterKey)`
//! with a random 24-byte nonce, and every field of the result in libsodium base64
//! ([`crate::base64_sodium`]); the ciphertext carries the 16-byte tag at its end and `tag`
//! repeats those 16 bytes. Decryption is what the legacy `decrypt` meant to do (the seed passes
//! libsodium's arguments in the wrong order and always throws): the ciphertext and nonce decoded,
//! authenticated, and the plaintext turned into text as libsodium-wrappers' `to_string` does.

use chacha20poly1305::aead::inout::InOutBuf;
use chacha20poly1305::{AeadInOut, Key, KeyInit, Tag, XChaCha20Poly1305, XNonce};
use zeroize::{Zeroize, Zeroizing};

use crate::base64_sodium::{self, Base64Error};
use crate::codec::decode_hex_lenient;
use crate::error::{CryptoError, ErrorCode, Result};

/// `crypto_aead_xchacha20poly1305_ietf_KEYBYTES`.
pub const KEY_BYTES: usize = 32;
/// `crypto_aead_xchacha20poly1305_ietf_NPUBBYTES`.
pub const NONCE_BYTES: usize = 24;
/// `crypto_aead_xchacha20poly1305_ietf_ABYTES`.
pub const TAG_BYTES: usize = 16;

/// The 32-byte master key (`MASTER_ENCRYPTION_KEY`). Zeroized on drop.
pub struct MasterKey(Zeroizing<[u8; KEY_BYTES]>);

impl MasterKey {
    /// Exactly 32 bytes, else `ERR_INVALID_KEY` (libsodium's "invalid key length").
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut key = Zeroizing::new([0u8; KEY_BYTES]);
        if bytes.len() != KEY_BYTES {
            return Err(CryptoError::new(
                ErrorCode::InvalidKey,
                format!("The master key must be {KEY_BYTES} bytes, got {}", bytes.len()),
            ));
        }
        key.copy_from_slice(bytes);
        Ok(MasterKey(key))
    }

    /// `Buffer.from(MASTER_ENCRYPTION_KEY, 'hex')` (Node's lenient decoder: stops at the first pair
    /// that is not hex, drops an odd last digit), which must come out at exactly 32 bytes.
    pub fn from_hex(units: &[u16]) -> Result<Self> {
        let decoded = Zeroizing::new(decode_hex_lenient(units));
        Self::from_bytes(&decoded).map_err(|_| {
            CryptoError::new(
                ErrorCode::InvalidKey,
                format!("The master key hex must decode to {KEY_BYTES} bytes, got {}", decoded.len()),
            )
        })
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        // The cipher keeps its own copy of the key and zeroizes it on drop (`zeroize` feature).
        XChaCha20Poly1305::new(<&Key>::from(&*self.0))
    }
}

/// A 24-byte nonce from a slice: libsodium's "invalid public_nonce length" otherwise.
pub fn nonce_from_slice(nonce: &[u8]) -> Result<[u8; NONCE_BYTES]> {
    <[u8; NONCE_BYTES]>::try_from(nonce).map_err(|_| {
        CryptoError::new(ErrorCode::InvalidFormat, format!("The nonce must be {NONCE_BYTES} bytes, got {}", nonce.len()))
    })
}

/// A fresh random nonce from the OS CSPRNG (`randombytes_buf(24)`).
pub fn random_nonce() -> Result<[u8; NONCE_BYTES]> {
    let mut nonce = [0u8; NONCE_BYTES];
    crate::rng::fill_random(&mut nonce)?;
    Ok(nonce)
}

fn too_long() -> CryptoError {
    CryptoError::new(ErrorCode::InvalidArgValue, "The message is too long for XChaCha20-Poly1305")
}

/// `crypto_aead_xchacha20poly1305_ietf_encrypt`: the ciphertext followed by the 16-byte tag.
pub fn encrypt(key: &MasterKey, nonce: &[u8; NONCE_BYTES], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    let mut out = crate::error::try_zeroed(plaintext.len() + TAG_BYTES)?;
    let (body, tag_out) = out.split_at_mut(plaintext.len());
    let buf = InOutBuf::new(plaintext, body).map_err(|_| too_long())?;
    let tag = key.cipher().encrypt_inout_detached(&XNonce::from(*nonce), aad, buf).map_err(|_| too_long())?;
    tag_out.copy_from_slice(&tag);
    Ok(out)
}

/// `crypto_aead_xchacha20poly1305_ietf_decrypt(null, ciphertext, aad, nonce, key)`, with its
/// checks in its order: a ciphertext shorter than the tag, a nonce that is not 24 bytes, then
/// authentication (`ERR_AUTH_FAILED`; nothing is decrypted unless the tag verifies).
pub fn decrypt(key: &MasterKey, nonce: &[u8], aad: &[u8], ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let mut buf = Zeroizing::new(crate::error::try_vec(ciphertext.len())?);
    buf.extend_from_slice(ciphertext);
    decrypt_in_place(key, nonce, aad, &mut buf)?;
    Ok(buf)
}

/// [`decrypt`] in place: on success `buf` holds the plaintext (the tag is cut off).
pub fn decrypt_in_place(key: &MasterKey, nonce: &[u8], aad: &[u8], buf: &mut Vec<u8>) -> Result<()> {
    if buf.len() < TAG_BYTES {
        return Err(CryptoError::new(
            ErrorCode::InvalidFormat,
            format!("The ciphertext is too short ({} bytes; the tag alone is {TAG_BYTES})", buf.len()),
        ));
    }
    let nonce = nonce_from_slice(nonce)?;
    let body_len = buf.len() - TAG_BYTES;
    let (body, tag) = buf.split_at_mut(body_len);
    let tag = Tag::try_from(&tag[..]).map_err(|_| auth_failed())?;
    key.cipher()
        .decrypt_inout_detached(&XNonce::from(nonce), aad, InOutBuf::from(body), &tag)
        .map_err(|_| auth_failed())?;
    buf.truncate(body_len);
    Ok(())
}

fn auth_failed() -> CryptoError {
    // libsodium-wrappers: "ciphertext cannot be decrypted using that key".
    CryptoError::new(ErrorCode::AuthFailed, "The ciphertext cannot be decrypted with this key (authentication failed)")
}

/// The result of `AdvancedCryptoService.encrypt`: three libsodium base64 strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionResult {
    /// The ciphertext with the tag at its end.
    pub ciphertext: String,
    pub nonce: String,
    /// The last 16 bytes of the ciphertext.
    pub tag: String,
}

/// `AdvancedCryptoService.encrypt` of a string's UTF-8 bytes, with the given nonce (known-answer
/// tests) or a fresh random one.
pub fn encrypt_to_result(key: &MasterKey, plaintext: &[u8], nonce: Option<[u8; NONCE_BYTES]>) -> Result<EncryptionResult> {
    let nonce = match nonce {
        Some(n) => n,
        None => random_nonce()?,
    };
    let sealed = encrypt(key, &nonce, &[], plaintext)?;
    let tag = &sealed[sealed.len() - TAG_BYTES..];
    Ok(EncryptionResult {
        ciphertext: base64_sodium::to_base64(&sealed),
        nonce: base64_sodium::to_base64(&nonce),
        tag: base64_sodium::to_base64(tag),
    })
}

fn bad_base64(field: &str, e: Base64Error) -> CryptoError {
    CryptoError::new(ErrorCode::InvalidFormat, format!("The {field} is not libsodium base64 ({e})"))
}

/// The intended `AdvancedCryptoService.decrypt`: `ciphertext` and `nonce` as JavaScript holds
/// them (UTF-16 code units), decoded strictly, authenticated, and made text by [`bytes_to_text`].
pub fn decrypt_result(key: &MasterKey, ciphertext: &[u16], nonce: &[u16]) -> Result<Zeroizing<String>> {
    // The legacy order: from_base64(ciphertext), from_base64(nonce), then libsodium's checks.
    let mut buf = base64_sodium::decode(ciphertext).map_err(|e| bad_base64("ciphertext", e))?;
    let nonce = base64_sodium::decode(nonce).map_err(|e| bad_base64("nonce", e))?;
    match decrypt_in_place(key, &nonce, &[], &mut buf) {
        Ok(()) => bytes_to_text(Zeroizing::new(buf)),
        Err(e) => Err(e),
    }
}

/// libsodium-wrappers' `to_string`: `new TextDecoder('utf-8', { fatal: true }).decode(bytes)`.
/// Invalid UTF-8 is an error (`ERR_INVALID_FORMAT`), and one leading byte order mark is removed
/// (the decoder's default `ignoreBOM: false`).
pub fn bytes_to_text(mut bytes: Zeroizing<Vec<u8>>) -> Result<Zeroizing<String>> {
    if std::str::from_utf8(&bytes).is_err() {
        return Err(CryptoError::new(ErrorCode::InvalidFormat, "The decrypted data is not valid UTF-8"));
    }
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        // The bytes shift left; Zeroizing clears the whole capacity on drop, tail included.
        bytes.drain(..3);
    }
    let vec = std::mem::take(&mut *bytes);
    match String::from_utf8(vec) {
        Ok(s) => Ok(Zeroizing::new(s)),
        // Checked above; kept as an error path rather than a panic.
        Err(e) => {
            e.into_bytes().zeroize();
            Err(CryptoError::new(ErrorCode::InvalidFormat, "The decrypted data is not valid UTF-8"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MasterKey {
        MasterKey::from_bytes(&core::array::from_fn::<u8, 32, _>(|i| i as u8)).unwrap()
    }

    #[test]
    fn master_key_hex_is_lenient_but_32_bytes() {
        let hex: String = (0..32).map(|i| format!("{i:02x}")).collect();
        let units = |s: &str| s.encode_utf16().collect::<Vec<u16>>();
        assert!(MasterKey::from_hex(&units(&hex)).is_ok());
        assert!(MasterKey::from_hex(&units(&format!("{hex}zz"))).is_ok());
        assert!(MasterKey::from_hex(&units(&format!("{hex}0"))).is_ok());
        assert!(MasterKey::from_hex(&units(&hex.to_uppercase())).is_ok());
        for bad in [String::new(), hex[..62].to_string(), format!("{hex}00"), "not hex".into()] {
            assert_eq!(MasterKey::from_hex(&units(&bad)).err().map(|e| e.code), Some(ErrorCode::InvalidKey));
        }
    }

    #[test]
    fn round_trip_and_tag_field() {
        let k = key();
        let r = encrypt_to_result(&k, "héllo".as_bytes(), None).unwrap();
        let ct = base64_sodium::from_base64(&r.ciphertext).unwrap();
        assert_eq!(base64_sodium::to_base64(&ct[ct.len() - 16..]), r.tag);
        let text = decrypt_result(&k, &r.ciphertext.encode_utf16().collect::<Vec<_>>(), &r.nonce.encode_utf16().collect::<Vec<_>>()).unwrap();
        assert_eq!(&*text, "héllo");
    }

    #[test]
    fn to_string_rules() {
        let t = |b: &[u8]| bytes_to_text(Zeroizing::new(b.to_vec())).map(|s| s.to_string());
        assert_eq!(t(&[0xEF, 0xBB, 0xBF, b'A']).unwrap(), "A");
        assert_eq!(t(&[0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF, b'A']).unwrap(), "\u{FEFF}A");
        assert_eq!(t(&[b'A', 0xEF, 0xBB, 0xBF]).unwrap(), "A\u{FEFF}");
        assert_eq!(t(&[0xEF, 0xBB, 0xBF]).unwrap(), "");
        assert_eq!(t(&[0]).unwrap(), "\0");
        for bad in [&[0xEF, 0xBB][..], &[0xED, 0xA0, 0x80], &[0xC0, 0x80], &[0xF4, 0x90, 0x80, 0x80]] {
            assert_eq!(t(bad).unwrap_err().code, ErrorCode::InvalidFormat);
        }
    }

    #[test]
    fn decrypt_checks_in_libsodium_order() {
        let k = key();
        let code = |ct: &[u8], nonce: &[u8]| decrypt(&k, nonce, &[], ct).unwrap_err().code;
        assert_eq!(code(&[0; 15], &[0; 23]), ErrorCode::InvalidFormat); // too short, before the nonce
        assert_eq!(code(&[0; 16], &[0; 23]), ErrorCode::InvalidFormat);
        assert_eq!(code(&[0; 16], &[0; 24]), ErrorCode::AuthFailed);
    }
}
