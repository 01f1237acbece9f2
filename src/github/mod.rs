//! GitHub: pull requests for the range, the sticky plan comment, and the Actions
//! environment. The network lives here and nowhere else.

use serde::Deserialize;

/// `[github]` in `.relplan.toml`. Always parsed, even in builds without the
/// `github` feature, so one config works with every build.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GithubConfig {}
