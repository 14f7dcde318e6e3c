//! Random IVs from the operating system's CSPRNG.
//!
//! One `getrandom` syscall costs about as much as a whole small encryption, so each thread reads
//! 4 KiB at a time and hands it out in 16-byte IVs (256 per syscall). IVs are public, so the
//! buffer holds nothing secret. Node cannot `fork()` a running process, so a buffer is never
//! shared by two processes.

use std::cell::RefCell;

use crate::error::{CryptoError, ErrorCode, Result};

const POOL_BYTES: usize = 4096;

struct Pool {
    buf: Box<[u8; POOL_BYTES]>,
    pos: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = RefCell::new(Pool { buf: Box::new([0u8; POOL_BYTES]), pos: POOL_BYTES });
}

/// Fill `out` with random bytes from the OS directly (no pooling): for keys and nonces of any size.
pub fn fill_random(out: &mut [u8]) -> Result<()> {
    getrandom::fill(out).map_err(|_| {
        CryptoError::new(ErrorCode::RandomUnavailable, "The operating system's random number generator failed")
    })
}

/// A fresh random 16-byte IV.
pub fn random_iv() -> Result<[u8; 16]> {
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.pos + 16 > POOL_BYTES {
            fill_random(&mut pool.buf[..])?;
            pool.pos = 0;
        }
        let mut iv = [0u8; 16];
        let start = pool.pos;
        iv.copy_from_slice(&pool.buf[start..start + 16]);
        // Never hand out the same bytes twice.
        pool.buf[start..start + 16].fill(0);
        pool.pos += 16;
        Ok(iv)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ivs_are_distinct() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..2000 {
            assert!(seen.insert(random_iv().unwrap()));
        }
    }
}
