//! The AuthService string format: `hex(iv16) + ":" + hex(AES-256-CBC/PKCS#7 ciphertext)`, with the
//! key scrypt(utf8(password), "salt"). Also used per field by the credential maps.

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, InnerIvInit};
use aes::Aes256;
use zeroize::Zeroizing;

use crate::codec::{find_unit, decode_hex_lenient_exact, decode_hex_lenient_into, decode_hex_update, decode_utf8_lossy, encode_hex_into, ascii_to_string};
use crate::error::{CryptoError, Result};
use crate::kdf::KeyMaterial;

type CbcEnc<'a> = cbc::Encryptor<&'a Aes256>;
type CbcDec<'a> = cbc::Decryptor<&'a Aes256>;

const COLON: u16 = b':' as u16;

/// AES-256-CBC with PKCS#7 padding. The mode borrows the cached, expanded key.
pub fn cbc_encrypt(aes: &Aes256, iv: &[u8; 16], plaintext: &[u8]) -> Vec<u8> {
    CbcEnc::inner_iv_init(aes, iv.into()).encrypt_padded_vec::<Pkcs7>(plaintext)
}

/// AES-256-CBC decryption in place, with OpenSSL's checks: the ciphertext must be a non-zero
/// multiple of the block size ("wrong final block length") and the padding must be valid
/// ("bad decrypt"). On success `buf` is truncated to the plaintext.
pub fn cbc_decrypt_in_place(aes: &Aes256, iv: &[u8; 16], buf: &mut Vec<u8>) -> Result<()> {
    if buf.is_empty() || !buf.len().is_multiple_of(16) {
        return Err(CryptoError::wrong_final_block_length());
    }
    let len = CbcDec::inner_iv_init(aes, iv.into())
        .decrypt_padded::<Pkcs7>(buf)
        .map_err(|_| CryptoError::bad_decrypt())?
        .len();
    buf.truncate(len);
    Ok(())
}

/// AES-256-CBC decryption of a slice in place; returns the plaintext length. Same checks as
/// [`cbc_decrypt_in_place`].
pub fn cbc_decrypt_slice(aes: &Aes256, iv: &[u8; 16], buf: &mut [u8]) -> Result<usize> {
    if buf.is_empty() || !buf.len().is_multiple_of(16) {
        return Err(CryptoError::wrong_final_block_length());
    }
    CbcDec::inner_iv_init(aes, iv.into())
        .decrypt_padded::<Pkcs7>(buf)
        .map(|p| p.len())
        .map_err(|_| CryptoError::bad_decrypt())
}

/// Decrypted bytes that stay inline for short values (no allocation), zeroized on drop.
pub struct Plaintext(smallvec::SmallVec<[u8; 64]>);

impl Plaintext {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Plaintext {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0[..]);
    }
}

/// `AuthService.decryptData` of an already split string, to bytes (the caller makes the text).
pub fn decrypt_to_plaintext(key: &KeyMaterial, iv_hex: &[u16], ct_hex: &[u16]) -> Result<Plaintext> {
    let iv = decode_hex_lenient_exact::<16>(iv_hex).ok_or_else(CryptoError::invalid_iv)?;
    if !ct_hex.len().is_multiple_of(2) {
        return Err(CryptoError::odd_hex(ct_hex.len()));
    }
    let n = ct_hex.len() / 2;
    let mut buf = Plaintext(smallvec::SmallVec::new());
    buf.0.try_reserve_exact(n).map_err(|_| crate::error::out_of_memory(n))?;
    buf.0.resize(n, 0);
    let n = decode_hex_lenient_into(ct_hex, &mut buf.0);
    let len = cbc_decrypt_slice(key.aes(), &iv, &mut buf.0[..n])?;
    buf.0.truncate(len);
    Ok(buf)
}

/// [`cbc_decrypt_in_place`] on a copy.
pub fn cbc_decrypt(aes: &Aes256, iv: &[u8; 16], ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let mut buf = Zeroizing::new(crate::error::try_vec(ciphertext.len())?);
    buf.extend_from_slice(ciphertext);
    cbc_decrypt_in_place(aes, iv, &mut buf)?;
    Ok(buf)
}

/// `AuthService.encryptData` with a given IV.
pub fn encrypt_with_iv(key: &KeyMaterial, iv: &[u8; 16], plaintext: &[u8]) -> String {
    let ct = cbc_encrypt(key.aes(), iv, plaintext);
    let mut out = Vec::with_capacity(33 + ct.len() * 2);
    encode_hex_into(iv, &mut out);
    out.push(b':');
    encode_hex_into(&ct, &mut out);
    ascii_to_string(out)
}

/// `AuthService.encryptData` with a fresh random IV.
pub fn encrypt(key: &KeyMaterial, plaintext: &[u8]) -> Result<String> {
    Ok(encrypt_with_iv(key, &crate::rng::random_iv()?, plaintext))
}

/// `decryptData`'s shape check: exactly two `:` parts, both non-empty.
pub fn split_encrypted(encrypted: &[u16]) -> Result<(&[u16], &[u16])> {
    let (iv, ct) = match find_unit(encrypted, COLON) {
        Some(i) => (&encrypted[..i], &encrypted[i + 1..]),
        None => return Err(CryptoError::invalid_format()),
    };
    if iv.is_empty() || ct.is_empty() || find_unit(ct, COLON).is_some() {
        return Err(CryptoError::invalid_format());
    }
    Ok((iv, ct))
}

/// The credential-map decoder's shape check: `const [ivHex, encryptedHex] = value.split(':')`,
/// both non-empty; any further parts are ignored, as the legacy destructuring ignored them.
pub fn first_two_parts(value: &[u16]) -> Option<(&[u16], &[u16])> {
    let i = find_unit(value, COLON)?;
    let (iv, rest) = (&value[..i], &value[i + 1..]);
    let ct = match find_unit(rest, COLON) {
        Some(j) => &rest[..j],
        None => rest,
    };
    (!iv.is_empty() && !ct.is_empty()).then_some((iv, ct))
}

/// Decrypt an IV part and a ciphertext part, in the legacy order of checks: the IV (lenient hex,
/// must give 16 bytes), then the ciphertext hex (odd length is an error), then the padding.
pub fn decrypt_parts(key: &KeyMaterial, iv_hex: &[u16], ct_hex: &[u16]) -> Result<Zeroizing<Vec<u8>>> {
    let iv = decode_hex_lenient_exact::<16>(iv_hex).ok_or_else(CryptoError::invalid_iv)?;
    let mut buf = Zeroizing::new(decode_hex_update(ct_hex)?);
    cbc_decrypt_in_place(key.aes(), &iv, &mut buf)?;
    Ok(buf)
}

/// `AuthService.decryptData`. A wrong key that happens to leave valid padding returns garbage,
/// exactly as the legacy code did: CBC has no integrity check.
pub fn decrypt(key: &KeyMaterial, encrypted: &[u16]) -> Result<String> {
    let (iv_hex, ct_hex) = split_encrypted(encrypted)?;
    decrypt_to_string(key, iv_hex, ct_hex)
}

/// The hex decoding half of [`decrypt_parts`]: the IV and the ciphertext bytes.
pub fn decode_parts(iv_hex: &[u16], ct_hex: &[u16]) -> Result<([u8; 16], Vec<u8>)> {
    let iv = decode_hex_lenient_exact::<16>(iv_hex).ok_or_else(CryptoError::invalid_iv)?;
    Ok((iv, decode_hex_update(ct_hex)?))
}

/// The decryption half: decrypt decoded bytes (in place) to text.
pub fn decrypt_bytes_to_string(key: &KeyMaterial, iv: &[u8; 16], ct: Vec<u8>) -> Result<String> {
    let mut buf = Zeroizing::new(ct);
    cbc_decrypt_in_place(key.aes(), iv, &mut buf)?;
    Ok(decode_utf8_lossy(std::mem::take(&mut *buf)))
}

pub fn decrypt_to_string(key: &KeyMaterial, iv_hex: &[u16], ct_hex: &[u16]) -> Result<String> {
    let mut plain = decrypt_parts(key, iv_hex, ct_hex)?;
    Ok(decode_utf8_lossy(std::mem::take(&mut *plain)))
}
