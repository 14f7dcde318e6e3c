//! The process-wide key cache: one derivation per key, however many threads ask for it at once.
//! (Its own test binary, so no other test derives keys while the counter is read.)

use std::sync::{Arc, Barrier};

use axisor_crypto::kdf::{cached_key, clear_key_cache, derivations_performed, LegacySalt};

#[test]
fn concurrent_first_calls_derive_a_key_once() {
    const THREADS: usize = 8;
    for round in 0..3 {
        clear_key_cache();
        let before = derivations_performed();
        let password = format!("single-flight-{round}");
        let barrier = Arc::new(Barrier::new(THREADS));
        let keys: Vec<_> = (0..THREADS)
            .map(|_| {
                let (barrier, password) = (Arc::clone(&barrier), password.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    cached_key(password.as_bytes(), LegacySalt::Salt).expect("derivation")
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().expect("thread"))
            .collect();
        assert_eq!(derivations_performed() - before, 1, "round {round}");
        assert!(keys.iter().all(|k| Arc::ptr_eq(k, &keys[0])));
        // Another salt is another key; the first one stays cached.
        cached_key(password.as_bytes(), LegacySalt::AxisorSalt).expect("derivation");
        cached_key(password.as_bytes(), LegacySalt::Salt).expect("cached");
        assert_eq!(derivations_performed() - before, 2, "round {round}");
    }
    // After a clear the key is derived again.
    clear_key_cache();
    let before = derivations_performed();
    cached_key(b"single-flight-0", LegacySalt::Salt).expect("derivation");
    assert_eq!(derivations_performed() - before, 1);
}
