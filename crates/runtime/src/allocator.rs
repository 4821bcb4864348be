//! The memory allocator of the services: mimalloc, installed by each service binary with
//! [`service_allocator!`](crate::service_allocator).
//!
//! A stage allocates and frees a few dozen small buffers per record (decoded strings, the output
//! event, its encoding, the record handed to librdkafka). With glibc's allocator those calls took
//! ~20 % of leadflow-score's CPU under load (`perf`, `benches/README.md` round 4); mimalloc's
//! thread-local free lists cut score's CPU per record by ~13 %. Only the service binaries install
//! it: a `#[global_allocator]` in this library would also choose the allocator of every test, the
//! CLI, the benches and the fuzz targets, none of which was measured with it.

pub use mimalloc::MiMalloc;

/// Makes mimalloc the binary's global allocator; one line in each service's `main.rs`.
#[macro_export]
macro_rules! service_allocator {
    () => {
        #[global_allocator]
        static GLOBAL: $crate::allocator::MiMalloc = $crate::allocator::MiMalloc;
    };
}
