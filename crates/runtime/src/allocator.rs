//! The memory allocator of every binary that links the runtime: mimalloc.
//!
//! A stage allocates and frees a few dozen small buffers per record (decoded strings, the output
//! event, its encoding, the record handed to librdkafka). With glibc's allocator those calls took
//! ~20 % of leadflow-score's CPU under load (`perf`, `benches/README.md`); mimalloc's thread-local
//! free lists make them a fraction of that.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
