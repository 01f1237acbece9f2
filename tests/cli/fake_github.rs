//! A local fake GitHub for the tests: a small HTTP/1.1 server on 127.0.0.1 (random
//! port) speaking the REST endpoints and the GraphQL queries relplan uses, with
//! payloads shaped like GitHub's documented examples, counting every request.
//! Faults (status, headers, body) can be queued per route to script failures.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

pub const OWNER: &str = "octo-org";
pub const NAME: &str = "octo-repo";
pub const TOKEN: &str = "ghp_fakeTOKEN0123456789abcdefSECRET";

/// A pull request the fake knows.
#[derive(Clone, Debug)]
pub struct FakePr {
    pub number: u64,
    pub title: String,
    pub labels: Vec<String>,
    pub author: String,
    pub association: String,
    pub merged: bool,
    /// `owner/name` of the base repository (a fork's PR has the fork here).
    pub base_repo: String,
    pub merge_commit: Option<String>,
    /// Commits `associatedPullRequests` links to this PR.
    pub commits: Vec<String>,
}

impl FakePr {
    pub fn new(number: u64, title: &str, commits: &[&str]) -> FakePr {
        FakePr {
            number,
            title: title.into(),
            labels: Vec::new(),
            author: "octocat".into(),
            association: "CONTRIBUTOR".into(),
            merged: true,
            base_repo: format!("{OWNER}/{NAME}"),
            merge_commit: commits.first().map(|c| c.to_string()),
            commits: commits.iter().map(|c| c.to_string()).collect(),
        }
    }
    pub fn labels(mut self, labels: &[&str]) -> Self {
        self.labels = labels.iter().map(|l| l.to_string()).collect();
        self
    }
}

/// A scripted answer for the next request(s) matching `method` and a path prefix.
#[derive(Clone, Debug)]
pub struct Fault {
    pub method: String,
    pub path_prefix: String,
    pub times: usize,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub body: String,
    pub authorization: Option<String>,
}

#[derive(Default)]
pub struct World {
    pub prs: Vec<FakePr>,
    pub comments: Vec<(u64, u64, String)>,
    pub faults: Vec<Fault>,
    pub requests: Vec<Seen>,
    pub graphql_enabled: bool,
    /// (method, path prefix, milliseconds, times): answer late, to trip read timeouts.
    pub delays: Vec<(String, String, u64, usize)>,
    next_comment: u64,
}

pub struct FakeGithub {
    pub url: String,
    pub world: Arc<Mutex<World>>,
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl FakeGithub {
    pub fn start() -> FakeGithub {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake GitHub");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let world = Arc::new(Mutex::new(World {
            graphql_enabled: true,
            next_comment: 1000,
            ..World::default()
        }));
        let shared = world.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let world = shared.clone();
                std::thread::spawn(move || serve(stream, &world));
            }
        });
        FakeGithub { url, world }
    }

    pub fn add_pr(&self, pr: FakePr) {
        self.world.lock().unwrap().prs.push(pr);
    }

    pub fn fault(
        &self,
        method: &str,
        path_prefix: &str,
        times: usize,
        status: u16,
        headers: &[(&str, &str)],
        body: &str,
    ) {
        self.world.lock().unwrap().faults.push(Fault {
            method: method.into(),
            path_prefix: path_prefix.into(),
            times,
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.into(),
        });
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.world.lock().unwrap().requests.clone()
    }

    pub fn count(&self, method: &str, path_prefix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == method && r.path.starts_with(path_prefix))
            .count()
    }

    pub fn comments(&self, pr: u64) -> Vec<(u64, String)> {
        self.world
            .lock()
            .unwrap()
            .comments
            .iter()
            .filter(|c| c.1 == pr)
            .map(|c| (c.0, c.2.clone()))
            .collect()
    }

    pub fn add_comment(&self, pr: u64, body: &str) -> u64 {
        let mut w = self.world.lock().unwrap();
        w.next_comment += 1;
        let id = w.next_comment;
        w.comments.push((id, pr, body.into()));
        id
    }

    /// The environment relplan needs to talk to this fake.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GITHUB_TOKEN", TOKEN.to_string()),
            ("GITHUB_API_URL", self.url.clone()),
            ("GITHUB_GRAPHQL_URL", format!("{}/graphql", self.url)),
            ("GITHUB_REPOSITORY", format!("{OWNER}/{NAME}")),
        ]
    }
}

fn serve(stream: TcpStream, world: &Mutex<World>) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut length = 0usize;
    let mut authorization = None;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = header.split_once(':') {
            let k = k.trim().to_ascii_lowercase();
            if k == "content-length" {
                length = v.trim().parse().unwrap_or(0);
            }
            if k == "authorization" {
                authorization = Some(v.trim().to_string());
            }
        }
    }
    let mut body = vec![0u8; length];
    let _ = reader.read_exact(&mut body);
    let body = String::from_utf8_lossy(&body).into_owned();
    let response = {
        let mut w = world.lock().unwrap();
        w.requests.push(Seen {
            method: method.clone(),
            path: path.clone(),
            body: body.clone(),
            authorization,
        });
        route(&mut w, &method, &path, &body)
    };
    let delay = {
        let mut w = world.lock().unwrap();
        w.delays
            .iter_mut()
            .find(|d| d.3 > 0 && d.0 == method && path.starts_with(&d.1))
            .map(|d| {
                d.3 -= 1;
                d.2
            })
    };
    if let Some(ms) = delay {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    let mut out = stream;
    let mut head = format!(
        "HTTP/1.1 {} X\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n",
        response.status,
        response.body.len()
    );
    for (k, v) in &response.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = out.write_all(head.as_bytes());
    let _ = out.write_all(response.body.as_bytes());
    let _ = out.flush();
}

fn ok(body: Value) -> Response {
    Response {
        status: 200,
        headers: vec![],
        body: body.to_string(),
    }
}

fn query_param(path: &str, key: &str) -> Option<String> {
    let query = path.split_once('?')?.1;
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_string())
}

fn route(w: &mut World, method: &str, path: &str, body: &str) -> Response {
    if let Some(fault) = w
        .faults
        .iter_mut()
        .find(|f| f.times > 0 && f.method == method && path.starts_with(&f.path_prefix))
    {
        fault.times -= 1;
        return Response {
            status: fault.status,
            headers: fault.headers.clone(),
            body: fault.body.clone(),
        };
    }
    let repo = format!("/repos/{OWNER}/{NAME}");
    // GitHub Enterprise Server serves REST under /api/v3 and GraphQL at /api/graphql.
    let path = path.strip_prefix("/api/v3").unwrap_or(path);
    let bare = path.split('?').next().unwrap_or("");
    if method == "POST" && bare.ends_with("/graphql") {
        if !w.graphql_enabled {
            return Response {
                status: 404,
                headers: vec![],
                body: json!({"message": "Not Found"}).to_string(),
            };
        }
        return ok(graphql(w, body));
    }
    if method == "GET" && bare == format!("{repo}/pulls") {
        let page: usize = query_param(path, "page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(1);
        let per_page: usize = query_param(path, "per_page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(30);
        let mut prs: Vec<&FakePr> = w
            .prs
            .iter()
            .filter(|p| p.base_repo == format!("{OWNER}/{NAME}"))
            .collect();
        prs.sort_by_key(|p| std::cmp::Reverse(p.number));
        let total = prs.len();
        let items: Vec<Value> = prs
            .into_iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .map(rest_pr)
            .collect();
        let mut headers = vec![];
        if page * per_page < total {
            headers.push((
                "link".to_string(),
                format!("<{repo}/pulls?page={}>; rel=\"next\"", page + 1),
            ));
        }
        return Response {
            status: 200,
            headers,
            body: Value::Array(items).to_string(),
        };
    }
    if method == "GET" && bare.starts_with(&format!("{repo}/commits/")) && bare.ends_with("/pulls")
    {
        let sha = bare
            .trim_start_matches(&format!("{repo}/commits/"))
            .trim_end_matches("/pulls");
        let items: Vec<Value> = w
            .prs
            .iter()
            .filter(|p| p.commits.iter().any(|c| c == sha))
            .map(rest_pr)
            .collect();
        return ok(Value::Array(items));
    }
    if let Some(rest) = bare.strip_prefix(&format!("{repo}/issues/")) {
        if let Some(number) = rest
            .strip_suffix("/comments")
            .and_then(|n| n.parse::<u64>().ok())
        {
            if method == "GET" {
                let page: usize = query_param(path, "page")
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(1);
                let per_page: usize = query_param(path, "per_page")
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(30);
                let all: Vec<&(u64, u64, String)> =
                    w.comments.iter().filter(|c| c.1 == number).collect();
                let items: Vec<Value> = all
                    .iter()
                    .skip((page - 1) * per_page)
                    .take(per_page)
                    .map(|c| comment_json(c.0, number, &c.2))
                    .collect();
                let mut headers = vec![];
                if page * per_page < all.len() {
                    headers.push((
                        "link".to_string(),
                        format!(
                            "<{repo}/issues/{number}/comments?page={}>; rel=\"next\"",
                            page + 1
                        ),
                    ));
                }
                return Response {
                    status: 200,
                    headers,
                    body: Value::Array(items).to_string(),
                };
            }
            if method == "POST" {
                let text = serde_json::from_str::<Value>(body)
                    .ok()
                    .and_then(|v| v["body"].as_str().map(str::to_string))
                    .unwrap_or_default();
                w.next_comment += 1;
                let id = w.next_comment;
                w.comments.push((id, number, text.clone()));
                return Response {
                    status: 201,
                    headers: vec![],
                    body: comment_json(id, number, &text).to_string(),
                };
            }
        }
        if let Some(id) = rest
            .strip_prefix("comments/")
            .and_then(|n| n.parse::<u64>().ok())
        {
            if method == "PATCH" {
                let text = serde_json::from_str::<Value>(body)
                    .ok()
                    .and_then(|v| v["body"].as_str().map(str::to_string))
                    .unwrap_or_default();
                if let Some(c) = w.comments.iter_mut().find(|c| c.0 == id) {
                    c.2 = text.clone();
                    let number = c.1;
                    return ok(comment_json(id, number, &text));
                }
            }
        }
    }
    Response {
        status: 404,
        headers: vec![],
        body: json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
            .to_string(),
    }
}

fn graphql(w: &World, body: &str) -> Value {
    let request: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let query = request["query"].as_str().unwrap_or("");
    let vars = request["variables"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut repo = serde_json::Map::new();
    if query.contains("associatedPullRequests") {
        for (key, value) in &vars {
            if !key.starts_with('c') {
                continue;
            }
            let oid = value.as_str().unwrap_or("");
            let nodes: Vec<Value> = w
                .prs
                .iter()
                .filter(|p| p.commits.iter().any(|c| c == oid))
                .map(|p| json!({"number": p.number, "merged": p.merged, "baseRepository": {"nameWithOwner": p.base_repo}}))
                .collect();
            repo.insert(
                key.clone(),
                json!({"oid": oid, "associatedPullRequests": {"nodes": nodes}}),
            );
        }
    } else {
        for (key, value) in &vars {
            if !key.starts_with('p') {
                continue;
            }
            let number = value.as_u64().unwrap_or(0);
            let pr = w
                .prs
                .iter()
                .find(|p| p.number == number && p.base_repo == format!("{OWNER}/{NAME}"));
            repo.insert(
                key.clone(),
                match pr {
                    Some(p) => json!({
                        "number": p.number,
                        "title": p.title,
                        "url": format!("https://github.com/{OWNER}/{NAME}/pull/{}", p.number),
                        "mergedAt": "2026-11-20T10:00:00Z",
                        "mergeCommit": p.merge_commit.as_ref().map(|oid| json!({"oid": oid})),
                        "baseRefName": "main",
                        "author": {"login": p.author},
                        "authorAssociation": p.association,
                        "labels": {"nodes": p.labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>()}
                    }),
                    None => Value::Null,
                },
            );
        }
    }
    json!({"data": {"repository": repo}})
}

/// A GitHub user object (the REST "simple user").
pub fn user_json(login: &str) -> Value {
    let base = format!("https://api.github.com/users/{login}");
    json!({
        "login": login, "id": 583231, "node_id": "MDQ6VXNlcjU4MzIzMQ==",
        "avatar_url": "https://avatars.githubusercontent.com/u/583231?v=4", "gravatar_id": "",
        "url": base, "html_url": format!("https://github.com/{login}"),
        "followers_url": format!("{base}/followers"), "following_url": format!("{base}/following{{/other_user}}"),
        "gists_url": format!("{base}/gists{{/gist_id}}"), "starred_url": format!("{base}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{base}/subscriptions"), "organizations_url": format!("{base}/orgs"),
        "repos_url": format!("{base}/repos"), "events_url": format!("{base}/events{{/privacy}}"),
        "received_events_url": format!("{base}/received_events"), "type": "User", "site_admin": false
    })
}

fn repo_json(full_name: &str) -> Value {
    let (owner, name) = full_name.split_once('/').unwrap_or((full_name, full_name));
    json!({
        "id": 1296269, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", "name": name, "full_name": full_name,
        "owner": user_json(owner), "private": false,
        "html_url": format!("https://github.com/{full_name}"),
        "url": format!("https://api.github.com/repos/{full_name}")
    })
}

/// A pull request as `GET /repos/{owner}/{repo}/pulls` returns it.
pub fn rest_pr(p: &FakePr) -> Value {
    let api = format!("https://api.github.com/repos/{}", p.base_repo);
    json!({
        "url": format!("{api}/pulls/{}", p.number), "id": 1000 + p.number, "node_id": "MDExOlB1bGxSZXF1ZXN0MQ==",
        "html_url": format!("https://github.com/{}/pull/{}", p.base_repo, p.number),
        "number": p.number, "state": "closed", "locked": false, "title": p.title,
        "user": user_json(&p.author), "body": "Please pull these awesome changes in!",
        "labels": p.labels.iter().enumerate().map(|(i, l)| json!({
            "id": 208045946 + i as u64, "node_id": "MDU6TGFiZWwyMDgwNDU5NDY=",
            "url": format!("{api}/labels/{l}"), "name": l, "description": null, "color": "f29513", "default": false
        })).collect::<Vec<_>>(),
        "created_at": "2026-11-01T19:01:12Z", "updated_at": "2026-11-20T10:00:00Z",
        "closed_at": "2026-11-20T10:00:00Z",
        "merged_at": if p.merged { json!("2026-11-20T10:00:00Z") } else { Value::Null },
        "merge_commit_sha": p.merge_commit,
        "author_association": p.association,
        "head": {"label": "octocat:new-topic", "ref": "new-topic", "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e", "user": user_json(&p.author), "repo": repo_json(&p.base_repo)},
        "base": {"label": "octo-org:main", "ref": "main", "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e", "user": user_json(OWNER), "repo": repo_json(&p.base_repo)}
    })
}

/// An issue comment as `GET /repos/{owner}/{repo}/issues/{n}/comments` returns it.
pub fn comment_json(id: u64, issue: u64, body: &str) -> Value {
    let api = format!("https://api.github.com/repos/{OWNER}/{NAME}");
    json!({
        "id": id, "node_id": "MDEyOklzc3VlQ29tbWVudDE=",
        "url": format!("{api}/issues/comments/{id}"),
        "html_url": format!("https://github.com/{OWNER}/{NAME}/pull/{issue}#issuecomment-{id}"),
        "body": body, "user": user_json("github-actions[bot]"),
        "created_at": "2026-11-14T16:00:49Z", "updated_at": "2026-11-14T16:00:49Z",
        "issue_url": format!("{api}/issues/{issue}"), "author_association": "NONE"
    })
}
