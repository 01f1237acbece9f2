//! End-to-end tests: real repositories in temp dirs, the real binary. One test
//! binary (this file and its modules) keeps link time down on a 2-core CI.

mod support;

mod commits;
mod fake_github;
mod github;
mod plan;
mod risk;
mod scale;
mod schedule;
mod scope;
