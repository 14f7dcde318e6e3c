//! AES-256-GCM with the legacy 16-byte IV, as a stream: the file format (`iv ‖ tag ‖ ct`) is
//! encrypted and decrypted chunk by chunk in constant memory. Byte-for-byte the same as the
//! one-shot `aes-gcm` (GCM hashes a non-96-bit IV into its first counter block: J0 =
//! GHASH(IV ‖ 0^64 ‖ [128]_64)); the counter is the 32-bit big-endian one of the standard,
//! wrapping within its low 32 bits.

use aes::cipher::{BlockCipherEncrypt, InnerIvInit, StreamCipher};
use aes::Aes256;
use ghash::universal_hash::UniversalHash;
use ghash::GHash;
use subtle::ConstantTimeEq;

use crate::error::{CryptoError, Result};

type Ctr<'a> = ctr::Ctr32BE<&'a Aes256>;

/// GCM's limit on one message: 2^32 - 2 blocks.
pub const MAX_PLAINTEXT: u64 = ((1u64 << 32) - 2) * 16;

/// The common state of both directions: the keystream, the running GHASH over the ciphertext
/// (with the partial block it has not hashed yet), and the tag mask E_K(J0).
struct GcmState<'k> {
    ctr: Ctr<'k>,
    ghash: GHash,
    pending: [u8; 16],
    pending_len: usize,
    total: u64,
    tag_mask: [u8; 16],
}

impl<'k> GcmState<'k> {
    fn new(aes: &'k Aes256, iv: &[u8; 16]) -> Self {
        let mut h = ghash::Block::default();
        aes.encrypt_block(&mut h);
        let ghash = GHash::new(&h);
        let j0 = {
            let mut g = ghash.clone();
            g.update_padded(iv);
            let mut len_block = ghash::Block::default();
            len_block[8..].copy_from_slice(&128u64.to_be_bytes());
            g.update(&[len_block]);
            g.finalize()
        };
        let mut tag_mask = aes::Block::from(<[u8; 16]>::from(j0));
        aes.encrypt_block(&mut tag_mask);
        // The first counter block encrypts the tag; data starts at inc32(J0).
        let mut ctr = Ctr::from_core(ctr::CtrCore::inner_iv_init(aes, &j0));
        let mut skip = [0u8; 16];
        ctr.apply_keystream(&mut skip);
        GcmState { ctr, ghash, pending: [0; 16], pending_len: 0, total: 0, tag_mask: tag_mask.into() }
    }

    fn count(&mut self, len: usize) -> Result<()> {
        self.total = self.total.saturating_add(len as u64);
        if self.total > MAX_PLAINTEXT {
            return Err(CryptoError::new(crate::error::ErrorCode::InvalidArgValue, "Input exceeds GCM's 64 GiB limit"));
        }
        Ok(())
    }

    /// Hash ciphertext bytes, carrying a partial block to the next call.
    fn hash(&mut self, mut ct: &[u8]) {
        if self.pending_len > 0 {
            let take = (16 - self.pending_len).min(ct.len());
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&ct[..take]);
            self.pending_len += take;
            ct = &ct[take..];
            if self.pending_len < 16 {
                return;
            }
            self.ghash.update(&[ghash::Block::from(self.pending)]);
            self.pending_len = 0;
        }
        let full = ct.len() / 16 * 16;
        let (blocks, _) = ghash::Block::slice_as_chunks(&ct[..full]);
        self.ghash.update(blocks);
        let rest = &ct[full..];
        self.pending[..rest.len()].copy_from_slice(rest);
        self.pending_len = rest.len();
    }

    fn tag(mut self) -> [u8; 16] {
        if self.pending_len > 0 {
            let mut last = [0u8; 16];
            last[..self.pending_len].copy_from_slice(&self.pending[..self.pending_len]);
            self.ghash.update(&[ghash::Block::from(last)]);
        }
        let mut len_block = ghash::Block::default();
        len_block[8..].copy_from_slice(&(self.total * 8).to_be_bytes());
        self.ghash.update(&[len_block]);
        let s = self.ghash.finalize();
        let mut tag = [0u8; 16];
        for (t, (a, b)) in tag.iter_mut().zip(s.iter().zip(self.tag_mask.iter())) {
            *t = a ^ b;
        }
        tag
    }
}

/// Streaming GCM encryption: call `update` on consecutive chunks of any size, then `finish`.
pub struct GcmEncryptor<'k>(GcmState<'k>);

impl<'k> GcmEncryptor<'k> {
    pub fn new(aes: &'k Aes256, iv: &[u8; 16]) -> Self {
        GcmEncryptor(GcmState::new(aes, iv))
    }

    /// Encrypt `buf` in place.
    pub fn update(&mut self, buf: &mut [u8]) -> Result<()> {
        self.0.count(buf.len())?;
        self.0.ctr.apply_keystream(buf);
        self.0.hash(buf);
        Ok(())
    }

    pub fn finish(self) -> [u8; 16] {
        self.0.tag()
    }
}

/// Streaming GCM decryption. The plaintext it yields is UNVERIFIED until `finish` returns Ok:
/// callers must not release it before then.
pub struct GcmDecryptor<'k>(GcmState<'k>);

impl<'k> GcmDecryptor<'k> {
    pub fn new(aes: &'k Aes256, iv: &[u8; 16]) -> Self {
        GcmDecryptor(GcmState::new(aes, iv))
    }

    /// Decrypt `buf` in place (hashing the ciphertext first).
    pub fn update(&mut self, buf: &mut [u8]) -> Result<()> {
        self.0.count(buf.len())?;
        self.0.hash(buf);
        self.0.ctr.apply_keystream(buf);
        Ok(())
    }

    /// Verify the tag in constant time.
    pub fn finish(self, tag: &[u8; 16]) -> Result<()> {
        if bool::from(self.0.tag().ct_eq(tag)) {
            Ok(())
        } else {
            Err(CryptoError::auth_failed())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes::cipher::KeyInit;

    #[test]
    fn matches_the_one_shot_aead_for_any_chunking() {
        let aes = Aes256::new(&[7u8; 32].into());
        let gcm = crate::kdf::Aes256Gcm16::from(aes.clone());
        let iv = [9u8; 16];
        for len in [0usize, 1, 15, 16, 17, 31, 32, 33, 100, 1000, 4097] {
            let plain: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let mut one_shot = plain.clone();
            let tag = crate::secure_storage::gcm16_encrypt(&gcm, &iv, &mut one_shot);
            for chunk in [1usize, 3, 15, 16, 17, 64, 1000] {
                let mut buf = plain.clone();
                let mut enc = GcmEncryptor::new(&aes, &iv);
                for c in buf.chunks_mut(chunk) {
                    enc.update(c).unwrap();
                }
                assert_eq!(buf, one_shot, "len {len} chunk {chunk}");
                assert_eq!(enc.finish(), tag, "len {len} chunk {chunk}");
                let mut dec = GcmDecryptor::new(&aes, &iv);
                for c in buf.chunks_mut(chunk) {
                    dec.update(c).unwrap();
                }
                assert_eq!(buf, plain);
                dec.finish(&tag).unwrap();
                let mut bad = tag;
                bad[0] ^= 1;
                let mut dec = GcmDecryptor::new(&aes, &iv);
                let mut again = one_shot.clone();
                dec.update(&mut again).unwrap();
                assert!(dec.finish(&bad).is_err());
            }
        }
    }
}
