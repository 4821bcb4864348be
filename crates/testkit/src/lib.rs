//! Test support for leadflow integration tests.
