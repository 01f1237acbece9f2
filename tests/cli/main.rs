//! End-to-end tests: real repositories in temp dirs, the real binary. One test
//! binary (this file and its modules) keeps link time down on a 2-core CI.

mod support;

mod plan;
mod scale;
mod scope;
