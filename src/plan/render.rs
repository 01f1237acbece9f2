//! Rendering the plan's documents with minijinja: templates embedded in the binary,
//! overridable file by file from a folder. Templates format; they never decide.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectRepr, Value};
use minijinja::{Environment, UndefinedBehavior};
use serde::{Serialize, Serializer};

use super::write::Stage;
use super::Plan;
use crate::commits::{self, Change};
use crate::error::{Error, Result};
use crate::risk::Signals;

/// Every embedded template: its name and text.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("scope.md.j2", include_str!("../../templates/scope.md.j2")),
    (
        "risk_assessment.md.j2",
        include_str!("../../templates/risk_assessment.md.j2"),
    ),
    (
        "deployment_strategy.md.j2",
        include_str!("../../templates/deployment_strategy.md.j2"),
    ),
    (
        "timeline.md.j2",
        include_str!("../../templates/timeline.md.j2"),
    ),
    (
        "team_allocation.md.j2",
        include_str!("../../templates/team_allocation.md.j2"),
    ),
    (
        "rollback_plan.md.j2",
        include_str!("../../templates/rollback_plan.md.j2"),
    ),
    (
        "internal_announcement.md.j2",
        include_str!("../../templates/internal_announcement.md.j2"),
    ),
    (
        "release_notes.md.j2",
        include_str!("../../templates/release_notes.md.j2"),
    ),
    ("macros.j2", include_str!("../../templates/macros.j2")),
];

/// Which template renders which file of the plan directory.
pub const DOCUMENTS: &[(&str, &str)] = &[
    ("scope.md.j2", "scope.md"),
    ("risk_assessment.md.j2", "risks/risk_assessment.md"),
    (
        "deployment_strategy.md.j2",
        "planning/deployment_strategy.md",
    ),
    ("timeline.md.j2", "schedule/timeline.md"),
    ("team_allocation.md.j2", "resources/team_allocation.md"),
    ("rollback_plan.md.j2", "rollback/rollback_plan.md"),
    (
        "internal_announcement.md.j2",
        "communications/internal_announcement.md",
    ),
    ("release_notes.md.j2", "communications/release_notes.md"),
];

fn embedded(name: &str) -> Option<&'static str> {
    TEMPLATES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// The template environment: the override folder first, then the embedded set.
pub fn environment(override_dir: Option<&Path>) -> Result<Environment<'static>> {
    if let Some(dir) = override_dir {
        if !dir.is_dir() {
            return Err(Error::input(format!(
                "template folder {} does not exist (expected a folder made by `relplan templates export`)",
                dir.display()
            )));
        }
    }
    let dir: Option<PathBuf> = override_dir.map(Path::to_path_buf);
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.add_filter("strip_pr", strip_pr);
    env.set_loader(move |name| {
        if let Some(dir) = &dir {
            let path = dir.join(name);
            if path.is_file() {
                return std::fs::read_to_string(&path).map(Some).map_err(|e| {
                    minijinja::Error::new(
                        minijinja::ErrorKind::InvalidOperation,
                        format!("cannot read template {}: {e}", path.display()),
                    )
                });
            }
        }
        Ok(embedded(name).map(str::to_string))
    });
    Ok(env)
}

/// `drop v1 routes (#12)` → `drop v1 routes`: documents show the PR number once, in
/// their own place, instead of repeating the squash-merge suffix.
fn strip_pr(text: String) -> String {
    let trimmed = text.trim_end();
    if let Some(open) = trimmed.rfind("(#") {
        let inner = &trimmed[open + 2..];
        if let Some(digits) = inner.strip_suffix(')') {
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                return trimmed[..open].trim_end().to_string();
            }
        }
    }
    text
}

/// Renders every document of the plan into `stage`, one at a time (a template error
/// leaves the plan directory as it was: `write::Stage`).
pub fn render_all(plan: &Plan, override_dir: Option<&Path>, stage: &mut Stage) -> Result<()> {
    let env = environment(override_dir)?;
    let context = minijinja::context! { plan => minijinja::Value::from_serialize(plan) };
    for (template, path) in DOCUMENTS {
        stage.add(path, |out| {
            env.get_template(template)
                .and_then(|t| t.render_captured_to(&context, out))
                .map(drop)
                .map_err(|e| match e.kind() {
                    minijinja::ErrorKind::WriteFailure => {
                        Error::runtime(format!("cannot write {path}: {e}"))
                    }
                    _ => template_error(e),
                })
        })?;
    }
    Ok(())
}

/// Templates read a `Change` in place: the same map its serde serialization gives
/// (keys, order, values), built field by field on access instead of copied whole
/// for every list that holds it.
impl Object for Change {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        let value = match key {
            "id" => Value::from(self.id()),
            "summary" => Value::from(self.summary()),
            "conventional" => Value::from(self.conventional()),
            "type" => Value::from(self.kind()),
            "scope" => Value::from(self.scope()),
            "breaking" => Value::from(self.breaking()),
            "description" => Value::from(self.description()),
            "category" => Value::from(self.category_name()),
            "pr" => Value::from(self.pr()),
            "authors" => self.authors().map(Value::from).collect(),
            "short_id" => Value::from(self.short_id()),
            "breaking_note" => Value::from(self.breaking_note()),
            "time" => Value::from(self.time_rfc3339()),
            "subject" => Value::from(self.subject()),
            "classified_by" => Value::from(self.classified_by()),
            "note" => Value::from(self.note()),
            _ => return None,
        };
        Some(value)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(commits::CHANGE_KEYS)
    }
}

/// `serialize_with` for the model's shared lists (the scope's changes, a risk's
/// commits): serde's plain list for JSON; for templates, the shared list itself,
/// each item made a value when a template reads it (`ListItem`). Converted up front,
/// a million-commit plan's lists made nearly three million template values before
/// the first line was rendered, most of them only ever counted.
pub fn shared_list<T: ListItem, S: Serializer>(
    items: &Arc<[T]>,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    if minijinja::value::serializing_for_value() {
        Value::from_object(SharedList(Arc::clone(items))).serialize(serializer)
    } else {
        items.serialize(serializer)
    }
}

/// What a template sees of an item of a shared list.
pub trait ListItem: Serialize + std::fmt::Debug + Send + Sync + 'static {
    fn value(&self) -> Value;
}

/// The change itself, read in place (`impl Object for Change`).
impl ListItem for Change {
    fn value(&self) -> Value {
        Value::from_object(self.clone())
    }
}

/// The commit's id, as JSON writes it.
impl ListItem for crate::risk::CommitId {
    fn value(&self) -> Value {
        Value::from(self.as_str())
    }
}

/// A shared list as templates see it: a sequence.
#[derive(Debug)]
struct SharedList<T>(Arc<[T]>);

impl<T: ListItem> Object for SharedList<T> {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    /// `key` is an index from the start: minijinja resolves negative ones first.
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(self.0.get(key.as_usize()?)?.value())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.0.len())
    }
}

/// `serialize_with` for the plan's risk signals: serde's plain object for JSON; for
/// templates, the shared `Signals` itself, each field converted when a template reads
/// it (see `impl Object for Signals`).
pub(crate) fn signals_in_place<S: Serializer>(
    signals: &Arc<Signals>,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    if minijinja::value::serializing_for_value() {
        Value::from_dyn_object(Arc::clone(signals)).serialize(serializer)
    } else {
        signals.serialize(serializer)
    }
}

/// The keys of `Signals` in templates: its serde field names, in field order.
const SIGNAL_KEYS: &[&str] = &[
    "commits",
    "shipping_commits",
    "authors",
    "files",
    "insertions",
    "deletions",
    "areas",
    "features",
    "breaking",
    "migrations",
    "dependency_files",
    "dependency_commits",
    "dependency_changes",
    "lockfiles_counted",
    "infrastructure",
    "security_commits",
    "advisories",
    "security_files",
    "performance_commits",
    "hot_files",
    "reverts",
    "fixups",
    "unclassified",
    "unclassified_percent",
    "flags",
];

/// Templates read the risk signals in place, a list converted only when a template
/// reads it: converted up front, the commit and path lists behind the signals were
/// most of the rendering phase's memory on a long range, and the built-in templates
/// read only the counts and the migrations.
impl Object for Signals {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        // No `..`: a new field does not compile until it is listed here and in
        // `SIGNAL_KEYS`.
        let Signals {
            commits,
            shipping_commits,
            authors,
            files,
            insertions,
            deletions,
            areas,
            features,
            breaking,
            migrations,
            dependency_files,
            dependency_commits,
            dependency_changes,
            lockfiles_counted,
            infrastructure,
            security_commits,
            advisories,
            security_files,
            performance_commits,
            hot_files,
            reverts,
            fixups,
            unclassified,
            unclassified_percent,
            flags,
        } = &**self;
        let value = match key {
            "commits" => Value::from(*commits),
            "shipping_commits" => Value::from(*shipping_commits),
            "authors" => Value::from(*authors),
            "files" => Value::from(*files),
            "insertions" => Value::from(*insertions),
            "deletions" => Value::from(*deletions),
            "areas" => Value::from_serialize(areas),
            "features" => Value::from_serialize(features),
            "breaking" => Value::from_serialize(breaking),
            "migrations" => Value::from_serialize(migrations),
            "dependency_files" => Value::from_serialize(dependency_files),
            "dependency_commits" => Value::from_serialize(dependency_commits),
            "dependency_changes" => Value::from_serialize(dependency_changes),
            "lockfiles_counted" => Value::from_serialize(lockfiles_counted),
            "infrastructure" => Value::from_serialize(infrastructure),
            "security_commits" => Value::from_serialize(security_commits),
            "advisories" => Value::from_serialize(advisories),
            "security_files" => Value::from_serialize(security_files),
            "performance_commits" => Value::from_serialize(performance_commits),
            "hot_files" => Value::from_serialize(hot_files),
            "reverts" => Value::from_serialize(reverts),
            "fixups" => Value::from_serialize(fixups),
            "unclassified" => Value::from_serialize(unclassified),
            "unclassified_percent" => Value::from(*unclassified_percent),
            "flags" => Value::from_serialize(flags),
            _ => return None,
        };
        Some(value)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(SIGNAL_KEYS)
    }
}

/// "template scope.md.j2 line 12: undefined value (...)": name and line, always.
pub fn template_error(e: minijinja::Error) -> Error {
    let name = e.name().unwrap_or("<unknown>").to_string();
    let line = e.line().map(|l| format!(" line {l}")).unwrap_or_default();
    let detail = e.detail().map(|d| format!(": {d}")).unwrap_or_default();
    Error::input(format!("template {name}{line}: {}{detail}", e.kind()))
}

/// Writes the embedded templates into `dir` for editing; never overwrites a file.
pub fn export(dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::runtime(format!("cannot create {}: {e}", dir.display())))?;
    let existing: Vec<String> = TEMPLATES
        .iter()
        .filter(|(name, _)| dir.join(name).exists())
        .map(|(name, _)| name.to_string())
        .collect();
    if !existing.is_empty() {
        return Err(Error::input(format!(
            "{} already holds {}: relplan will not overwrite templates (choose an empty folder)",
            dir.display(),
            existing.join(", ")
        )));
    }
    let mut written = Vec::new();
    for (name, text) in TEMPLATES {
        let path = dir.join(name);
        super::write::atomic_write(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod strip_pr_tests {
    #[test]
    fn strips_only_a_trailing_pr_reference() {
        assert_eq!(
            super::strip_pr("drop v1 routes (#12)".into()),
            "drop v1 routes"
        );
        assert_eq!(
            super::strip_pr("keep (#12) inside".into()),
            "keep (#12) inside"
        );
        assert_eq!(super::strip_pr("not a pr (#x)".into()), "not a pr (#x)");
        assert_eq!(super::strip_pr("plain".into()), "plain");
    }
}

#[cfg(test)]
mod change_object_tests {
    use std::sync::Arc;

    use minijinja::value::Value;

    use crate::commits::{Category, Change, ChangeFields};
    use crate::plan::Scope;

    fn change(id: &str, full: bool) -> Change {
        let some = |text: &str| full.then(|| text.to_string());
        Change::from(ChangeFields {
            id: format!("{id}000000").into(),
            summary: "feat(api)!: drop v1 routes (#12)".into(),
            conventional: full,
            kind: Some("feat".into()),
            scope: Some("api".into()),
            breaking: full,
            description: some("drop v1 routes (#12)"),
            category: if full {
                Category::Features
            } else {
                Category::Custom("ops".into())
            },
            pr: full.then_some(12),
            authors: if full {
                vec!["Ada Lovelace".into(), "Grace Hopper".into()]
            } else {
                Vec::new()
            },
            short_id: id.into(),
            breaking_note: some("use /v2"),
            time: 1_796_032_800,
            subject: "feat(api)!: drop v1 routes (#12)".into(),
            classified_by: "type",
            note: some("reverted by abc1234"),
        })
    }

    /// What templates ask of a change: printing, iteration, lookups, filters, tests.
    const PROBE: &str = "{{ c }}\n{{ c|pprint }}\n{% for k, v in c|items %}{{ k }}={{ v }};{% endfor %}\n\
        {% for k in c %}{{ k }},{% endfor %}\n{{ c|length }} {{ c|dictsort }} {{ c|list }}\n\
        {{ c.type is none }} {{ c['type'] }} {{ c.pr }} {{ c.authors|join(', ') }} {{ c.nope is defined }}\n\
        {{ (c.description if c.description is not none else c.summary)|strip_pr }} {{ c is mapping }} {{ c == c }}";

    fn probe(c: Value) -> String {
        let env = super::environment(None).unwrap();
        env.render_str(PROBE, minijinja::context! { c }).unwrap()
    }

    #[test]
    fn a_change_reads_like_its_serialization() {
        for full in [true, false] {
            let change = change("abc1234", full);
            let copied = Value::from_serialize(&change);
            let shared = Value::from_dyn_object(Arc::new(change));
            let keys = |v: &Value| v.try_iter().unwrap().collect::<Vec<_>>();
            assert_eq!(keys(&shared), keys(&copied));
            for key in keys(&copied) {
                let (a, b) = (
                    shared.get_item(&key).unwrap(),
                    copied.get_item(&key).unwrap(),
                );
                assert_eq!((a.kind(), &a), (b.kind(), &b), "{key}");
            }
            assert_eq!(shared, copied);
            assert_eq!(probe(shared), probe(copied));
        }
    }

    #[test]
    fn templates_read_the_plan_s_changes_in_place() {
        let scope = Scope::from_changes(vec![change("abc1234", true), change("def5678", false)]);
        let value = Value::from_serialize(&scope);
        let first = &scope.changes[0];
        for path in ["changes", "breaking", "sections"] {
            let list = value.get_attr(path).unwrap();
            let item = match path {
                "sections" => list
                    .get_item(&Value::from(0))
                    .and_then(|s| s.get_attr("changes"))
                    .and_then(|c| c.get_item(&Value::from(0))),
                _ => list.get_item(&Value::from(0)),
            }
            .unwrap();
            let shared = item.downcast_object::<Change>().expect("a shared Change");
            assert!(shared.is_shared_with(first), "{path}");
        }
        // JSON keeps serde's plain objects.
        let json = serde_json::to_value(&scope).unwrap();
        assert_eq!(json["breaking"][0], serde_json::to_value(first).unwrap());
        assert_eq!(json["sections"][0]["changes"][0], json["changes"][0]);
    }
}

#[cfg(test)]
mod signals_object_tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use minijinja::value::Value;

    use crate::commits::{Category, Change, ChangeFields};
    use crate::git::{DiffTotals, PathChange, PathLists};
    use crate::risk::{self, FileTexts, RiskConfig, RiskInput, Signals};

    fn change(n: usize, kind: &str, category: Category) -> Change {
        let summary: Arc<str> = format!("{kind}: change {n}").into();
        Change::from(ChangeFields {
            id: format!("{n:040x}").into(),
            subject: Arc::clone(&summary),
            summary,
            conventional: true,
            kind: Some(kind.into()),
            scope: None,
            breaking: n == 2,
            description: Some(format!("change {n}")),
            category,
            pr: Some(n as u64),
            authors: vec!["Ada".into()],
            short_id: format!("{n:07x}").into(),
            breaking_note: None,
            time: 1_796_032_800,
            classified_by: "type",
            note: None,
        })
    }

    /// Signals with something in most lists: features, breaking, performance,
    /// infrastructure, security and migration paths, an unclassified commit, and a
    /// reverted one (so that not every commit ships).
    fn assessment() -> risk::Assessment {
        let changes: Vec<Change> = vec![
            change(1, "feat", Category::Features),
            change(2, "fix", Category::Fixes),
            change(3, "perf", Category::Performance),
            change(4, "wip", Category::Unclassified),
            change(5, "chore", Category::Reverted),
        ];
        let paths = |list: &[&str]| {
            Ok(list
                .iter()
                .map(|p| PathChange {
                    status: 'M',
                    path: (*p).into(),
                })
                .collect())
        };
        let commit_paths = PathLists::from(vec![
            paths(&["src/api.rs", "Dockerfile"]),
            paths(&["src/auth/login.rs", "migrations/0002_users.sql"]),
            paths(&[".github/workflows/ci.yml"]),
            paths(&["Cargo.lock"]),
            paths(&[]),
        ]);
        risk::assess(
            &RiskInput {
                changes: &changes,
                paths: &commit_paths,
                totals: &DiffTotals {
                    files: 6,
                    insertions: 40,
                    deletions: 3,
                },
                texts: &FileTexts::default(),
                labels: &BTreeMap::new(),
                messages: &BTreeMap::new(),
                messages_filtered: false,
                flags: &[],
                labelled: &[],
            },
            &RiskConfig::default(),
        )
    }

    #[test]
    fn lists_of_changes_read_like_their_serialization() {
        let commits: Vec<crate::git::Commit> = ["feat: a", "fix!: b", "docs: c", "feat(x): d"]
            .iter()
            .enumerate()
            .map(|(i, message)| crate::git::Commit::fixture(format!("{i:040}"), message))
            .collect();
        let scope = super::super::Scope::from_changes(crate::commits::classify(
            &commits,
            &Default::default(),
        ));
        let shared = Value::from_serialize(&scope);
        let copied = Value::from_serialize(serde_json::to_value(&scope).unwrap());
        let env = super::environment(None).unwrap();
        let probe = "{{ s.changes|length }} {{ s.changes[0].summary }} {{ s.changes[-1].short_id }} \
            {% for c in s.changes|reverse %}{{ c.id }}:{{ loop.index }},{% endfor %} \
            {{ s.changes|map(attribute='category')|join(',') }} {{ s.changes[1:3]|map(attribute='description')|join(',') }} \
            {% for section in s.sections %}{{ section.title }}={{ section.changes|length }};{% endfor %} \
            {{ s.breaking|length }} {{ s.breaking[0].summary }} {% if s.changes %}some{% endif %} {{ s.changes[9] is undefined }}";
        let render = |s: Value| env.render_str(probe, minijinja::context! { s }).unwrap();
        assert_eq!(render(shared), render(copied));
    }

    #[test]
    fn signals_read_like_their_serialization() {
        let signals = assessment().signals;
        let copied = Value::from_serialize(&*signals);
        let shared = Value::from_dyn_object(Arc::clone(&signals));
        let keys = |v: &Value| v.try_iter().unwrap().collect::<Vec<_>>();
        assert_eq!(keys(&shared), keys(&copied));
        let mut filled = 0;
        for key in keys(&copied) {
            let (a, b) = (
                shared.get_item(&key).unwrap(),
                copied.get_item(&key).unwrap(),
            );
            assert_eq!((a.kind(), &a), (b.kind(), &b), "{key}");
            filled += usize::from(a.len().is_some_and(|n| n > 0));
        }
        assert!(
            filled >= 5,
            "the fixture should fill several lists: {signals:?}"
        );
        let env = super::environment(None).unwrap();
        let probe = "{{ s.commits }} {{ s.migrations|length }} {% for h in s.infrastructure %}{{ h.path }}:{{ h.commits|map(attribute='short_id')|join(',') }};{% endfor %} {{ s|length }} {{ s.features[0].summary }}";
        let render = |s: Value| env.render_str(probe, minijinja::context! { s }).unwrap();
        assert_eq!(render(shared), render(copied));
    }

    #[test]
    fn the_plan_s_signals_reach_templates_in_place_and_json_whole() {
        let assessment = assessment();
        let value = Value::from_serialize(&assessment);
        let shared = value
            .get_attr("signals")
            .unwrap()
            .downcast_object::<Signals>()
            .expect("the shared Signals");
        assert!(Arc::ptr_eq(&shared, &assessment.signals));
        let json = serde_json::to_value(&assessment).unwrap();
        assert_eq!(
            json["signals"],
            serde_json::to_value(&*assessment.signals).unwrap()
        );
        assert!(json["signals"]["features"]
            .as_array()
            .is_some_and(|f| !f.is_empty()));
    }

    #[test]
    fn a_risk_s_commits_reach_templates_in_place_and_json_as_ids() {
        let assessment = assessment();
        let risk = assessment
            .risks
            .iter()
            .find(|r| r.commits.len() > 1)
            .expect("a risk raised by several commits");
        let shared = Value::from_serialize(risk).get_attr("commits").unwrap();
        let copied = Value::from_serialize(serde_json::to_value(risk).unwrap())
            .get_attr("commits")
            .unwrap();
        assert!(shared.as_object().is_some(), "a list read in place");
        let env = super::environment(None).unwrap();
        let probe = "{{ c|length }} {{ c[0] }} {{ c[-1] }} {{ c|join(',') }} {% for id in c %}{{ id }};{% endfor %}";
        let render = |c: Value| env.render_str(probe, minijinja::context! { c }).unwrap();
        assert_eq!(render(shared), render(copied));
        let json = serde_json::to_value(risk).unwrap();
        let ids: Vec<&str> = risk.commits.iter().map(|c| c.as_str()).collect();
        assert_eq!(json["commits"], serde_json::json!(ids));
    }
}
