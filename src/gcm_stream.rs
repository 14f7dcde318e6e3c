//! AES-256-GCM with the legacy 16-byte IV, as a stream: the file format (`iv ‖ tag ‖ ct`) is
//! encrypted and decrypted chunk by chunk in constant memory. Byte-for-byte the same as the
//! one-shot `aes-gcm` (GCM hashes a non-96-bit IV into its first counter block: J0 =
//! GHASH(IV ‖ 0^64 ‖ [128]_64)); the counter is the 32-bit big-endian one of the standard,
//! wrapping within its low 32 bits.
//!
//! On x86_64 CPUs with VAES and VPCLMULQDQ (detected at run time) the bulk of each update, in
//! whole 128-byte batches, goes through the stitched kernel of `gcm_x86` (CTR and GHASH in one
//! pass); the rest, and every other CPU, takes the portable path (the `aes` crate's CTR, then
//! the `ghash` crate over what it wrote). Both give the same bytes.

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use aes::Aes256;
use ghash::universal_hash::UniversalHash;
use ghash::GHash;
use subtle::ConstantTimeEq;

use crate::error::{CryptoError, Result};

/// CTR and GHASH take turns on pieces of this size.
const INTERLEAVE_BYTES: usize = 4096;

/// Blocks of keystream made per batch: enough for the AES backend's parallel pipeline.
const BATCH_BLOCKS: usize = 64;

/// The key of the stream: the AES key schedule, and on CPUs that can run it the fast kernel's
/// own schedule and hash key powers (built once here, zeroized on drop).
pub struct GcmKey {
    aes: Aes256,
    #[cfg(target_arch = "x86_64")]
    fast: Option<Box<crate::gcm_x86::Key>>,
}

impl GcmKey {
    /// The key for `key`, with the fast kernel when this CPU has it.
    pub fn new(key: &[u8; 32]) -> Self {
        GcmKey {
            aes: Aes256::new(key.into()),
            #[cfg(target_arch = "x86_64")]
            fast: crate::gcm_x86::Key::new(key),
        }
    }

    /// The key for `key` on the portable path only, whatever the CPU (for tests and measurements).
    pub fn portable(key: &[u8; 32]) -> Self {
        GcmKey {
            aes: Aes256::new(key.into()),
            #[cfg(target_arch = "x86_64")]
            fast: None,
        }
    }

    /// The AES-256 block cipher of this key (for the other formats).
    pub fn aes(&self) -> &Aes256 {
        &self.aes
    }

    /// Whether streams under this key use the fast kernel.
    pub fn is_accelerated(&self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            self.fast.is_some()
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }
}

/// Whether this CPU can run the fast kernel (x86_64 with AES-NI, PCLMULQDQ, AVX2, VAES and
/// VPCLMULQDQ), i.e. whether [`GcmKey::new`] gives accelerated keys. Detected once.
pub fn accelerated() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        crate::gcm_x86::available()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

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

    /// Keystream bytes made but not used yet.
    #[cfg(target_arch = "x86_64")]
    fn unused(&self) -> usize {
        BATCH_BLOCKS * 16 - self.pos
    }

    /// The next counter block (valid when no keystream is left over: the fast kernel takes over
    /// from here, then [`Ctr32::skip`] the blocks it used).
    #[cfg(target_arch = "x86_64")]
    fn next_block(&self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..12].copy_from_slice(&self.prefix);
        b[12..].copy_from_slice(&self.counter.to_be_bytes());
        b
    }

    #[cfg(target_arch = "x86_64")]
    fn skip(&mut self, blocks: usize) {
        // The counter is 32 bits and wraps; `blocks` is at most 2^32 (MAX_PLAINTEXT).
        self.counter = self.counter.wrapping_add(blocks as u32);
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
    ghash: Hasher<'k>,
    pending: [u8; 16],
    pending_len: usize,
    total: u64,
    tag_mask: [u8; 16],
}

/// The running GHASH: the `ghash` crate's, or the fast kernel's accumulator (its own bit-reflected
/// form, zeroized on drop).
#[derive(Clone)]
enum Hasher<'k> {
    Portable(GHash),
    #[cfg(target_arch = "x86_64")]
    Fast(&'k crate::gcm_x86::Key, [u8; 16]),
    /// Only so that `'k` is used on targets without the fast kernel.
    #[cfg(not(target_arch = "x86_64"))]
    #[allow(dead_code)]
    Never(core::marker::PhantomData<&'k ()>, core::convert::Infallible),
}

impl<'k> Hasher<'k> {
    fn new(key: &'k GcmKey) -> Self {
        #[cfg(target_arch = "x86_64")]
        if let Some(fast) = key.fast.as_deref() {
            return Hasher::Fast(fast, [0; 16]);
        }
        let mut h = ghash::Block::default();
        key.aes.encrypt_block(&mut h);
        Hasher::Portable(GHash::new(&h))
    }

    /// Hash whole blocks (`blocks.len()` a multiple of 16).
    fn update(&mut self, blocks: &[u8]) {
        match self {
            Hasher::Portable(g) => {
                let (blocks, _) = ghash::Block::slice_as_chunks(blocks);
                g.update(blocks);
            }
            #[cfg(target_arch = "x86_64")]
            Hasher::Fast(key, acc) => key.ghash(acc, blocks),
            #[cfg(not(target_arch = "x86_64"))]
            Hasher::Never(_, never) => match *never {},
        }
    }

    fn finalize(&mut self) -> [u8; 16] {
        match self {
            Hasher::Portable(g) => g.clone().finalize().into(),
            // The accumulator is byte-reflected: reflect it back.
            #[cfg(target_arch = "x86_64")]
            Hasher::Fast(_, acc) => u128::from_le_bytes(*acc).to_be_bytes(),
            #[cfg(not(target_arch = "x86_64"))]
            Hasher::Never(_, never) => match *never {},
        }
    }
}

impl Drop for Hasher<'_> {
    fn drop(&mut self) {
        #[cfg(target_arch = "x86_64")]
        if let Hasher::Fast(_, acc) = self {
            zeroize::Zeroize::zeroize(acc);
        }
    }
}

impl<'k> GcmState<'k> {
    fn new(key: &'k GcmKey, iv: &[u8; 16]) -> Self {
        let aes = &key.aes;
        let ghash = Hasher::new(key);
        let j0 = {
            let mut g = ghash.clone();
            let mut len_block = [0u8; 16];
            len_block[8..].copy_from_slice(&128u64.to_be_bytes());
            g.update(iv);
            g.update(&len_block);
            g.finalize()
        };
        let mut tag_mask = aes::Block::from(j0);
        aes.encrypt_block(&mut tag_mask);
        // The first counter block encrypts the tag; data starts at inc32(J0).
        let mut first = j0;
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
            self.ghash.update(&self.pending);
            self.pending_len = 0;
        }
        let full = ct.len() / 16 * 16;
        self.ghash.update(&ct[..full]);
        let rest = &ct[full..];
        self.pending[..rest.len()].copy_from_slice(rest);
        self.pending_len = rest.len();
    }

    fn tag(mut self) -> [u8; 16] {
        if self.pending_len > 0 {
            let mut last = [0u8; 16];
            last[..self.pending_len].copy_from_slice(&self.pending[..self.pending_len]);
            self.ghash.update(&last);
        }
        let mut len_block = [0u8; 16];
        len_block[8..].copy_from_slice(&(self.total * 8).to_be_bytes());
        self.ghash.update(&len_block);
        let s = self.ghash.finalize();
        let mut tag = [0u8; 16];
        for (t, (a, b)) in tag.iter_mut().zip(s.iter().zip(self.tag_mask.iter())) {
            *t = a ^ b;
        }
        tag
    }

    /// Encrypt or decrypt `buf` in place: whole batches through the fast kernel when the key has
    /// it, the rest (and everything without it) CTR and GHASH a few KiB at a time, so GHASH reads
    /// what CTR just wrote (or is about to overwrite) from L1.
    fn process(&mut self, buf: &mut [u8], encrypt: bool) {
        #[cfg(target_arch = "x86_64")]
        let buf = self.process_fast(buf, encrypt);
        for piece in buf.chunks_mut(INTERLEAVE_BYTES) {
            self.portable(piece, encrypt);
        }
    }

    /// The fast kernel's share of `buf` (none without it): returns what is left for the
    /// portable path, less than one batch.
    #[cfg(target_arch = "x86_64")]
    fn process_fast<'b>(&mut self, buf: &'b mut [u8], encrypt: bool) -> &'b mut [u8] {
        let Hasher::Fast(fast, _) = self.ghash else {
            return buf;
        };
        // Keystream left over from an earlier partial batch first.
        let n = self.ctr.unused().min(buf.len());
        let (head, buf) = buf.split_at_mut(n);
        self.portable(head, encrypt);
        let bulk = buf.len() / crate::gcm_x86::BATCH_BYTES * crate::gcm_x86::BATCH_BYTES;
        if bulk == 0 {
            return buf;
        }
        // No keystream is left, so the stream is at a block boundary: nothing is pending.
        debug_assert!(self.ctr.unused() == 0 && self.pending_len == 0);
        let counter = self.ctr.next_block();
        let (bulk_buf, rest) = buf.split_at_mut(bulk);
        if let Hasher::Fast(_, acc) = &mut self.ghash {
            if encrypt {
                fast.encrypt(&counter, acc, bulk_buf);
            } else {
                fast.decrypt(&counter, acc, bulk_buf);
            }
        }
        self.ctr.skip(bulk / 16);
        rest
    }

    fn portable(&mut self, piece: &mut [u8], encrypt: bool) {
        if encrypt {
            self.ctr.apply(piece);
            self.hash(piece);
        } else {
            self.hash(piece);
            self.ctr.apply(piece);
        }
    }
}

/// Streaming GCM encryption: call `update` on consecutive chunks of any size, then `finish`.
pub struct GcmEncryptor<'k>(GcmState<'k>);

impl<'k> GcmEncryptor<'k> {
    pub fn new(key: &'k GcmKey, iv: &[u8; 16]) -> Self {
        GcmEncryptor(GcmState::new(key, iv))
    }

    /// Encrypt `buf` in place.
    pub fn update(&mut self, buf: &mut [u8]) -> Result<()> {
        self.0.count(buf.len())?;
        self.0.process(buf, true);
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
    pub fn new(key: &'k GcmKey, iv: &[u8; 16]) -> Self {
        GcmDecryptor(GcmState::new(key, iv))
    }

    /// Decrypt `buf` in place (hashing the ciphertext first).
    pub fn update(&mut self, buf: &mut [u8]) -> Result<()> {
        self.0.count(buf.len())?;
        self.0.process(buf, false);
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

    #[test]
    fn matches_the_one_shot_aead_for_any_chunking() {
        let key = GcmKey::new(&[7u8; 32]);
        let gcm = crate::kdf::Aes256Gcm16::from(key.aes().clone());
        let iv = [9u8; 16];
        for len in [0usize, 1, 15, 16, 17, 31, 32, 33, 100, 1000, 4097] {
            let plain: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let mut one_shot = plain.clone();
            let tag = crate::secure_storage::gcm16_encrypt(&gcm, &iv, &mut one_shot);
            for chunk in [1usize, 3, 15, 16, 17, 64, 1000] {
                let mut buf = plain.clone();
                let mut enc = GcmEncryptor::new(&key, &iv);
                for c in buf.chunks_mut(chunk) {
                    enc.update(c).unwrap();
                }
                assert_eq!(buf, one_shot, "len {len} chunk {chunk}");
                assert_eq!(enc.finish(), tag, "len {len} chunk {chunk}");
                let mut dec = GcmDecryptor::new(&key, &iv);
                for c in buf.chunks_mut(chunk) {
                    dec.update(c).unwrap();
                }
                assert_eq!(buf, plain);
                dec.finish(&tag).unwrap();
                let mut bad = tag;
                bad[0] ^= 1;
                let mut dec = GcmDecryptor::new(&key, &iv);
                let mut again = one_shot.clone();
                dec.update(&mut again).unwrap();
                assert!(dec.finish(&bad).is_err());
            }
        }
    }
}
