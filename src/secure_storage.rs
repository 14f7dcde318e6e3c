//! The SecureStorageService format: `hex(iv16) + ":" + hex(tag16) + ":" + hex(ct)`, AES-256-GCM with
//! a 16-byte IV, key = scrypt(hexdecode(ENCRYPTION_KEY), "axisor-salt").

use aes_gcm::aead::inout::InOutBuf;
use aes_gcm::aead::AeadInOut;
use aes_gcm::{Nonce, Tag};
use zeroize::Zeroizing;

use crate::codec::{decode_hex_lenient, decode_hex_lenient_exact, decode_hex_update, encode_hex_into, ascii_to_string};
use crate::error::{CryptoError, ErrorCode, Result};
use std::sync::Arc;

use crate::kdf::{Aes256Gcm16, KeyMaterial, KeySource, LegacySalt};

const COLON: u16 = b':' as u16;

/// Fewer decoded key bytes than this is refused for encryption (see `SecureStorageKey::check_strength`).
pub const MIN_KEY_BYTES: usize = 16;

/// The key of the secure-storage format. Its scrypt password is `Buffer.from(ENCRYPTION_KEY, 'hex')`;
/// only the decoded length and the cache lookup (or the bytes to derive from, zeroized on drop)
/// are kept.
pub struct SecureStorageKey {
    decoded_len: usize,
    source: KeySource,
}

impl SecureStorageKey {
    pub fn from_hex(units: &[u16]) -> Result<Self> {
        let password = Zeroizing::new(decode_hex_lenient(units));
        Ok(SecureStorageKey { decoded_len: password.len(), source: KeySource::new(&password, LegacySalt::AxisorSalt)? })
    }

    /// The derived key material (cached; derived on first use).
    pub fn material(&self) -> Result<Arc<KeyMaterial>> {
        self.source.key()
    }

    /// With the legacy derivation every non-hex ENCRYPTION_KEY decodes to zero bytes, so all such
    /// deployments share one public key (scrypt of the empty password). Encryption refuses a key
    /// that decodes to fewer than 16 bytes unless explicitly allowed.
    pub fn check_strength(&self, allow_weak: bool) -> Result<()> {
        if allow_weak || self.decoded_len >= MIN_KEY_BYTES {
            return Ok(());
        }
        Err(CryptoError::new(
            ErrorCode::WeakKey,
            format!(
                "The secure-storage key decodes to {} bytes of hex; at least {MIN_KEY_BYTES} are required \
                 (a non-hex key gives the same public key for everyone). Pass allowWeakKey to override.",
                self.decoded_len
            ),
        ))
    }
}

pub fn gcm16_encrypt(gcm: &Aes256Gcm16, iv: &[u8; 16], buf: &mut [u8]) -> [u8; 16] {
    let tag = gcm
        .encrypt_inout_detached(&Nonce::from(*iv), &[], InOutBuf::from(buf))
        .expect("GCM encryption fails only beyond 64 GiB, far above any string");
    tag.into()
}

pub fn gcm16_decrypt(gcm: &Aes256Gcm16, iv: &[u8; 16], buf: &mut [u8], tag: &[u8; 16]) -> Result<()> {
    gcm.decrypt_inout_detached(&Nonce::from(*iv), &[], InOutBuf::from(buf), &Tag::from(*tag))
        .map_err(|_| CryptoError::auth_failed())
}

pub fn encrypt_with_iv(key: &KeyMaterial, iv: &[u8; 16], plaintext: &[u8]) -> String {
    let mut buf = plaintext.to_vec();
    let tag = gcm16_encrypt(key.gcm16(), iv, &mut buf);
    let mut out = Vec::with_capacity(66 + buf.len() * 2);
    encode_hex_into(iv, &mut out);
    out.push(b':');
    encode_hex_into(&tag, &mut out);
    out.push(b':');
    encode_hex_into(&buf, &mut out);
    ascii_to_string(out)
}

pub fn encrypt(key: &KeyMaterial, plaintext: &[u8]) -> Result<String> {
    Ok(encrypt_with_iv(key, &crate::rng::random_iv()?, plaintext))
}

/// Decrypt, in the legacy order of checks: three `:` parts; the IV (lenient hex); the tag
/// (lenient hex); the ciphertext hex (odd length is an error); the tag verification. Nothing is
/// released unless the tag verifies.
///
/// Deviations from Node: the IV must decode to exactly 16 bytes (Node accepted any non-zero
/// length; the legacy writer only wrote 16) and the tag to exactly 16 bytes (Node accepted 4 to
/// 16, which makes forgery feasible).
pub fn decrypt(key: &KeyMaterial, encrypted: &[u16]) -> Result<Zeroizing<Vec<u8>>> {
    let mut parts = encrypted.split(|&u| u == COLON);
    let (iv_hex, tag_hex, ct_hex) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(a), Some(b), Some(c), None) => (a, b, c),
        _ => return Err(CryptoError::invalid_format()),
    };
    let iv = decode_hex_lenient_exact::<16>(iv_hex).ok_or_else(CryptoError::invalid_iv)?;
    let tag = decode_hex_lenient(tag_hex);
    let tag: [u8; 16] = tag.as_slice().try_into().map_err(|_| {
        CryptoError::new(
            ErrorCode::InvalidAuthTag,
            format!("Invalid authentication tag length: {} (exactly 16 bytes are required)", tag.len()),
        )
    })?;
    let mut buf = Zeroizing::new(decode_hex_update(ct_hex)?);
    gcm16_decrypt(key.gcm16(), &iv, &mut buf, &tag)?;
    Ok(buf)
}
