//! AES-256-GCM with the legacy 16-byte IV, as a stream: the file format (`iv ‖ tag ‖ ct`) is
//! encrypted and decrypted chunk by chunk in constant memory. Byte-for-byte the same as the
//! one-shot `aes-gcm` (GCM hashes a non-96-bit IV into its first counter block: J0 =
//! GHASH(IV ‖ 0^64 ‖ [128]_64)); the counter is the 32-bit big-endian one of the standard,
//! wrapping within its low 32 bits.

use aes::cipher::BlockCipherEncrypt;
use aes::Aes256;
use ghash::universal_hash::UniversalHash;
use ghash::GHash;
use subtle::ConstantTimeEq;

use crate::error::{CryptoError, Result};

/// CTR and GHASH take turns on pieces of this size.
const INTERLEAVE_BYTES: usize = 4096;

/// Blocks of keystream made per batch: enough for the AES backend's parallel pipeline.
const BATCH_BLOCKS: usize = 64;

/// GCM's counter mode: 32-bit big-endian increment of the last four bytes, wrapping within them.
/// Keystream is made a batch at a time with the block cipher's parallel `encrypt_blocks` (the
/// `ctr` crate's one-block-at-a-time wrapper runs at a fraction of the cipher's speed here).
struct Ctr32<'k> {
    aes: &'k Aes256,
    /// The counter block: 12 fixed bytes and the 32-bit counter (kept apart: no read-back of a
    /// just-written block in the hot loop).
    prefix: [u8; 12],
    counter: u32,
    keystream: [aes::Block; BATCH_BLOCKS],
    /// Unused keystream bytes at the end of `keystream`, from this position.
    pos: usize,
}

impl<'k> Ctr32<'k> {
    fn new(aes: &'k Aes256, first: [u8; 16]) -> Self {
        Ctr32 {
            aes,
            prefix: first[..12].try_into().expect("12 bytes"),
            counter: u32::from_be_bytes(first[12..].try_into().expect("4 bytes")),
            keystream: [aes::Block::default(); BATCH_BLOCKS],
            pos: BATCH_BLOCKS * 16,
        }
    }

    fn refill(&mut self) {
        let (prefix, mut counter) = (self.prefix, self.counter);
        for block in self.keystream.iter_mut() {
            block[..12].copy_from_slice(&prefix);
            block[12..].copy_from_slice(&counter.to_be_bytes());
            counter = counter.wrapping_add(1);
        }
        self.counter = counter;
        self.aes.encrypt_blocks(&mut self.keystream);
        self.pos = 0;
    }

    fn apply(&mut self, mut buf: &mut [u8]) {
        while !buf.is_empty() {
            if self.pos == BATCH_BLOCKS * 16 {
                self.refill();
            }
            let ks = aes::Block::slice_as_flattened(&self.keystream);
            let n = (ks.len() - self.pos).min(buf.len());
            for (b, k) in buf[..n].iter_mut().zip(&ks[self.pos..self.pos + n]) {
                *b ^= k;
            }
            self.pos += n;
            buf = &mut buf[n..];
        }
    }
}

impl Drop for Ctr32<'_> {
    fn drop(&mut self) {
        // Keystream is as secret as the plaintext it masks.
        for block in self.keystream.iter_mut() {
            zeroize::Zeroize::zeroize(block.as_mut_slice());
        }
    }
}

/// GCM's limit on one message: 2^32 - 2 blocks.
pub const MAX_PLAINTEXT: u64 = ((1u64 << 32) - 2) * 16;

/// The common state of both directions: the keystream, the running GHASH over the ciphertext
/// (with the partial block it has not hashed yet), and the tag mask E_K(J0).
struct GcmState<'k> {
    ctr: Ctr32<'k>,
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
        let mut first: [u8; 16] = j0.into();
        let c = u32::from_be_bytes(first[12..].try_into().expect("4 bytes")).wrapping_add(1);
        first[12..].copy_from_slice(&c.to_be_bytes());
        let ctr = Ctr32::new(aes, first);
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

    /// Encrypt `buf` in place (a few KiB at a time, so GHASH reads what CTR just wrote from L1).
    pub fn update(&mut self, buf: &mut [u8]) -> Result<()> {
        self.0.count(buf.len())?;
        for piece in buf.chunks_mut(INTERLEAVE_BYTES) {
            self.0.ctr.apply(piece);
            self.0.hash(piece);
        }
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
        for piece in buf.chunks_mut(INTERLEAVE_BYTES) {
            self.0.hash(piece);
            self.0.ctr.apply(piece);
        }
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
