//! The AuthService string format: `hex(iv16) + ":" + hex(AES-256-CBC/PKCS#7 ciphertext)`, with the
//! key scrypt(utf8(password), "salt"). Also used per field by the credential maps.

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, InnerIvInit};
use aes::Aes256;
use zeroize::Zeroizing;

use crate::codec::{decode_hex_lenient, decode_hex_update, decode_utf8_lossy, encode_hex_into};
use crate::error::{CryptoError, Result};
use crate::kdf::KeyMaterial;

type CbcEnc = cbc::Encryptor<Aes256>;
type CbcDec = cbc::Decryptor<Aes256>;

const COLON: u16 = b':' as u16;

/// AES-256-CBC with PKCS#7 padding.
pub fn cbc_encrypt(aes: &Aes256, iv: &[u8; 16], plaintext: &[u8]) -> Vec<u8> {
    CbcEnc::inner_iv_init(aes.clone(), iv.into()).encrypt_padded_vec::<Pkcs7>(plaintext)
}

/// AES-256-CBC decryption with OpenSSL's checks: the ciphertext must be a non-zero multiple of the
/// block size ("wrong final block length") and the padding must be valid ("bad decrypt").
pub fn cbc_decrypt(aes: &Aes256, iv: &[u8; 16], ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    if ciphertext.is_empty() || ciphertext.len() % 16 != 0 {
        return Err(CryptoError::wrong_final_block_length());
    }
    let mut buf = Zeroizing::new(ciphertext.to_vec());
    let len = CbcDec::inner_iv_init(aes.clone(), iv.into())
        .decrypt_padded::<Pkcs7>(&mut buf)
        .map_err(|_| CryptoError::bad_decrypt())?
        .len();
    buf.truncate(len);
    Ok(buf)
}

/// `AuthService.encryptData` with a given IV.
pub fn encrypt_with_iv(key: &KeyMaterial, iv: &[u8; 16], plaintext: &[u8]) -> String {
    let ct = cbc_encrypt(key.aes(), iv, plaintext);
    let mut out = String::with_capacity(33 + ct.len() * 2);
    encode_hex_into(iv, &mut out);
    out.push(':');
    encode_hex_into(&ct, &mut out);
    out
}

/// `AuthService.encryptData` with a fresh random IV.
pub fn encrypt(key: &KeyMaterial, plaintext: &[u8]) -> Result<String> {
    Ok(encrypt_with_iv(key, &crate::rng::random_iv()?, plaintext))
}

/// `decryptData`'s shape check: exactly two `:` parts, both non-empty.
pub fn split_encrypted(encrypted: &[u16]) -> Result<(&[u16], &[u16])> {
    let mut parts = encrypted.split(|&u| u == COLON);
    match (parts.next(), parts.next(), parts.next()) {
        (Some(iv), Some(ct), None) if !iv.is_empty() && !ct.is_empty() => Ok((iv, ct)),
        _ => Err(CryptoError::invalid_format()),
    }
}

/// The credential-map decoder's shape check: `const [ivHex, encryptedHex] = value.split(':')`,
/// both non-empty; any further parts are ignored, as the legacy destructuring ignored them.
pub fn first_two_parts(value: &[u16]) -> Option<(&[u16], &[u16])> {
    let mut parts = value.split(|&u| u == COLON);
    match (parts.next(), parts.next()) {
        (Some(iv), Some(ct)) if !iv.is_empty() && !ct.is_empty() => Some((iv, ct)),
        _ => None,
    }
}

/// Decrypt an IV part and a ciphertext part, in the legacy order of checks: the IV (lenient hex,
/// must give 16 bytes), then the ciphertext hex (odd length is an error), then the padding.
pub fn decrypt_parts(key: &KeyMaterial, iv_hex: &[u16], ct_hex: &[u16]) -> Result<Zeroizing<Vec<u8>>> {
    let iv: [u8; 16] = decode_hex_lenient(iv_hex).try_into().map_err(|_| CryptoError::invalid_iv())?;
    let ct = decode_hex_update(ct_hex)?;
    cbc_decrypt(key.aes(), &iv, &ct)
}

/// `AuthService.decryptData`. A wrong key that happens to leave valid padding returns garbage,
/// exactly as the legacy code did: CBC has no integrity check.
pub fn decrypt(key: &KeyMaterial, encrypted: &[u16]) -> Result<String> {
    let (iv_hex, ct_hex) = split_encrypted(encrypted)?;
    decrypt_to_string(key, iv_hex, ct_hex)
}

pub fn decrypt_to_string(key: &KeyMaterial, iv_hex: &[u16], ct_hex: &[u16]) -> Result<String> {
    let mut plain = decrypt_parts(key, iv_hex, ct_hex)?;
    Ok(decode_utf8_lossy(std::mem::take(&mut *plain)))
}
