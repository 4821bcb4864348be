//! The memory allocator of the services: mimalloc, installed by each service binary with
//! [`service_allocator!`](crate::service_allocator).
//!
//! A stage allocates and frees a few dozen small buffers per record (decoded strings, the output
//! event, its encoding, the record handed to librdkafka). With glibc's allocator those calls were a
//! large share of a stage's CPU under load (`perf`); mimalloc's thread-local free lists make them
//! cheap (the method and the figures: `benches/README.md`). Only the service binaries install
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
