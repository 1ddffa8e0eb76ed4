//! One function per endpoint; each turns a request into a `Core` call and
//! the outcome into JSON. docs/control-api.md documents every endpoint.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{Reply, MAX_BODY};
use crate::expect::Expectation;
use crate::fault::Fault;
use crate::matcher::Matcher;
use crate::server::{Core, ServerError};
use crate::storage::{FileKind, StorageError};
use crate::transcript::Transcript;

/// A refused request, before it becomes a reply (small, for `Result`s).
#[derive(Debug)]
struct Refusal(u16, String);

impl Refusal {
    fn reply(self) -> Reply {
        error(self.0, self.1)
    }
}

fn refuse(status: u16, message: impl Into<String>) -> Refusal {
    Refusal(status, message.into())
}

pub(crate) fn error(status: u16, message: impl Into<String>) -> Reply {
    json(status, json!({ "error": message.into() }))
}

fn json(status: u16, value: Value) -> Reply {
    let body = serde_json::to_vec_pretty(&value).unwrap_or_default();
    respond(status, "application/json", body)
}

fn respond(status: u16, content_type: &str, body: Vec<u8>) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from(body)));
    *reply.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    if let Ok(v) = content_type.parse() {
        reply.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    reply
}

/// Records a call that changed the server, as the server's own event.
fn record(core: &Core, request: String) {
    core.record_control(request);
}

pub(crate) async fn route(core: &Arc<Core>, req: Request<Incoming>) -> Reply {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = match parse_query(req.uri().query().unwrap_or("")) {
        Ok(q) => q,
        Err(e) => return error(400, e),
    };
    let segments: Vec<&str> = path.trim_start_matches('/').splitn(2, '/').collect();
    let (head, rest) = (segments[0], segments.get(1).copied());
    match (&method, head, rest) {
        (&Method::GET, "status", None) => status(core),
        (&Method::GET, "transcript", None) => transcript(core, &query),
        (&Method::DELETE, "transcript", None) => {
            core.clear_transcript();
            record(core, "DELETE /transcript".into());
            json(200, json!({ "ok": true }))
        }
        (&Method::GET, "transcript", Some("wait")) => wait(core, &query).await,
        (&Method::POST, "faults", None) => match body(req).await {
            Ok(b) => add_faults(core, &b),
            Err(e) => e,
        },
        (&Method::GET, "faults", None) => list_faults(core),
        (&Method::DELETE, "faults", None) => {
            let removed = core.faults().len();
            core.clear_faults();
            record(core, "DELETE /faults".into());
            json(200, json!({ "removed": removed }))
        }
        (&Method::DELETE, "faults", Some(id)) => remove_fault(core, id),
        (&Method::PUT | &Method::GET | &Method::DELETE, "files", rest) => {
            files(core, method, rest.unwrap_or(""), req).await
        }
        (&Method::POST, "users", None) => match body(req).await {
            Ok(b) => add_user(core, &b).await,
            Err(e) => e,
        },
        (&Method::DELETE, "users", Some(name)) => remove_user(core, name),
        (&Method::POST, "expectations", None) => match body(req).await {
            Ok(b) => expect(core, &b),
            Err(e) => e,
        },
        (&Method::GET, "verify", None) => verify(core),
        (&Method::POST, "reset", None) => reset(core).await,
        (&Method::POST, "shutdown", None) => {
            record(core, "POST /shutdown".into());
            core.request_stop();
            json(202, json!({ "ok": true }))
        }
        (
            _,
            "status" | "transcript" | "faults" | "files" | "users" | "expectations" | "verify"
            | "reset" | "shutdown",
            _,
        ) => error(
            405,
            format!("{method} {path} is not an endpoint of this API"),
        ),
        _ => error(404, format!("no such endpoint: {method} {path}")),
    }
}

async fn body(req: Request<Incoming>) -> Result<Bytes, Reply> {
    match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) => Err(error(413, format!("cannot read the body: {e}"))),
    }
}

fn parse_json(body: &[u8]) -> Result<Value, Refusal> {
    serde_json::from_slice(body).map_err(|e| refuse(400, format!("the body is not JSON: {e}")))
}

fn parse_query(query: &str) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        out.insert(percent_decode(k)?, percent_decode(v)?);
    }
    Ok(out)
}

/// `%XX` escapes (and `+` in queries is left alone: paths use `%20`).
fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent escape in {s:?}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{s:?} is not UTF-8 once decoded"))
}

fn status(core: &Core) -> Reply {
    let mut value = serde_json::to_value(core.status()).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert(
            "certificate_pem".into(),
            core.certificate_pem().map_or(Value::Null, Value::String),
        );
    }
    json(200, value)
}

fn number(query: &HashMap<String, String>, key: &str) -> Result<Option<u64>, Refusal> {
    query
        .get(key)
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| refuse(400, format!("{key}={v:?} is not a number")))
        })
        .transpose()
}

fn transcript_reply(t: &Transcript, format: Option<&str>) -> Reply {
    let t = t.masked();
    match format {
        None | Some("json") => json(200, serde_json::to_value(t.events()).unwrap_or(Value::Null)),
        Some("text") => respond(200, "text/plain; charset=utf-8", t.render().into_bytes()),
        Some("jsonl") => respond(200, "application/jsonl", t.to_jsonl().into_bytes()),
        Some(other) => error(
            400,
            format!("format={other:?}: expected json, jsonl or text"),
        ),
    }
}

fn transcript(core: &Core, query: &HashMap<String, String>) -> Reply {
    let session = match number(query, "session") {
        Ok(s) => s,
        Err(e) => return e.reply(),
    };
    let mut t = core.transcript();
    if let Some(id) = session {
        t = t.session(id);
    }
    transcript_reply(&t, query.get("format").map(String::as_str))
}

async fn wait(core: &Arc<Core>, query: &HashMap<String, String>) -> Reply {
    let timeout = match query.get("timeout") {
        None => Duration::from_secs(5),
        Some(t) => match crate::fault::parse::parse_duration(t) {
            Some(d) if d <= Duration::from_secs(600) => d,
            _ => {
                return error(
                    400,
                    format!("timeout={t:?}: a duration up to 600s, like 5s or 500ms"),
                )
            }
        },
    };
    let waited = match (query.get("session_end"), query.get("command")) {
        (Some(_), None) => {
            let id = match number(query, "session_end") {
                Ok(Some(id)) => id,
                Ok(None) => return error(400, "session_end needs a number"),
                Err(e) => return e.reply(),
            };
            core.wait_until(timeout, |t| t.ended(id)).await
        }
        (None, Some(verb)) => {
            let count = match number(query, "count") {
                Ok(n) => n.unwrap_or(1) as usize,
                Err(e) => return e.reply(),
            };
            let verb = verb.clone();
            core.wait_until(timeout, move |t| t.count(&verb) >= count)
                .await
        }
        _ => {
            return error(
                400,
                "say what to wait for: session_end=N, or command=VERB (with count=N)",
            )
        }
    };
    match waited {
        Ok(t) => transcript_reply(&t, query.get("format").map(String::as_str)),
        Err(timeout) => json(
            408,
            json!({
                "error": "timed out waiting on the transcript",
                "transcript": timeout.transcript().masked().render(),
            }),
        ),
    }
}

/// The rules in a body: text (one rule), a JSON object with `rule`, or a
/// JSON list of strings or such objects.
fn rules_of(body: &[u8]) -> Result<(Vec<String>, bool), Refusal> {
    let text = std::str::from_utf8(body)
        .map_err(|_| refuse(400, "the body is not UTF-8"))?
        .trim();
    if !(text.starts_with('{') || text.starts_with('[')) {
        if text.is_empty() {
            return Err(refuse(400, "empty body: send a fault rule"));
        }
        return Ok((vec![text.to_string()], false));
    }
    let one = |v: &Value| -> Result<String, Refusal> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Object(o) => match o.get("rule") {
                Some(Value::String(s)) => Ok(s.clone()),
                _ => Err(refuse(400, "a fault object needs \"rule\": \"...\"")),
            },
            _ => Err(refuse(
                400,
                "a fault is a rule string or {\"rule\": \"...\"}",
            )),
        }
    };
    match parse_json(text.as_bytes())? {
        Value::Array(items) => Ok((items.iter().map(one).collect::<Result<_, _>>()?, true)),
        v => Ok((vec![one(&v)?], false)),
    }
}

fn add_faults(core: &Core, body: &[u8]) -> Reply {
    let (rules, list) = match rules_of(body) {
        Ok(r) => r,
        Err(e) => return e.reply(),
    };
    // Every rule parses, or none is added.
    let mut faults = Vec::with_capacity(rules.len());
    for rule in &rules {
        match rule.parse::<Fault>() {
            Ok(f) => faults.push(f),
            Err(e) => return error(400, e.to_string()),
        }
    }
    let added: Vec<Value> = faults
        .into_iter()
        .map(|f| {
            let handle = core.add_fault(f);
            let rule = handle.fault().to_string();
            record(core, format!("POST /faults {rule}"));
            json!({ "id": handle.id(), "rule": rule })
        })
        .collect();
    if list {
        json(201, Value::Array(added))
    } else {
        json(201, added.into_iter().next().unwrap_or(Value::Null))
    }
}

fn list_faults(core: &Core) -> Reply {
    let list: Vec<Value> = core
        .faults()
        .iter()
        .map(|h| json!({ "id": h.id(), "rule": h.fault().to_string(), "fired": h.times_fired() }))
        .collect();
    json(200, Value::Array(list))
}

fn remove_fault(core: &Core, id: &str) -> Reply {
    let Ok(n) = id.parse::<u64>() else {
        return error(400, format!("{id:?} is no fault id"));
    };
    if core.remove_fault(n) {
        record(core, format!("DELETE /faults/{n}"));
        json(200, json!({ "removed": 1 }))
    } else {
        error(404, format!("no fault with id {n}"))
    }
}

fn server_error(e: ServerError) -> Reply {
    let status = match &e {
        ServerError::OutsideRoot { .. } | ServerError::InvalidPath { .. } => 400,
        ServerError::InvalidUser { .. } => 400,
        ServerError::Storage { source, .. } => match source {
            StorageError::NotFound => 404,
            StorageError::PermissionDenied => 403,
            StorageError::InvalidName => 400,
            StorageError::Io(_) => 500,
            _ => 409,
        },
        ServerError::NoUserTable => 409,
        ServerError::Stopped => 503,
    };
    error(status, e.to_string())
}

async fn files(core: &Arc<Core>, method: Method, raw: &str, req: Request<Incoming>) -> Reply {
    let path = match percent_decode(raw) {
        Ok(p) => format!("/{p}"),
        Err(e) => return error(400, e),
    };
    let is_dir = path.ends_with('/');
    match method {
        Method::PUT if is_dir => error(400, "PUT needs a file path, not one ending in /"),
        Method::PUT => {
            let content = match body(req).await {
                Ok(b) => b,
                Err(e) => return e,
            };
            let size = content.len();
            match core.write_file(&path, content.to_vec()).await {
                Ok(at) => {
                    record(core, format!("PUT /files{at} ({size} bytes)"));
                    json(201, json!({ "path": at.as_str(), "size": size }))
                }
                Err(e) => server_error(e),
            }
        }
        Method::GET if is_dir => match core.list_dir(&path).await {
            Ok(entries) => {
                let list: Vec<Value> = entries
                    .iter()
                    .map(|e| {
                        let kind = match e.metadata().kind() {
                            FileKind::Dir => "dir",
                            FileKind::Symlink => "symlink",
                            _ => "file",
                        };
                        json!({ "name": e.name(), "type": kind, "size": e.metadata().size() })
                    })
                    .collect();
                json(200, Value::Array(list))
            }
            Err(e) => server_error(e),
        },
        Method::GET => match core.read_file(&path).await {
            Ok(bytes) => respond(200, "application/octet-stream", bytes),
            Err(ServerError::Storage {
                source: StorageError::IsADirectory,
                ..
            }) => error(400, format!("{path} is a directory: add a / to list it")),
            Err(e) => server_error(e),
        },
        _ => match core.remove(&path).await {
            Ok(()) => {
                record(core, format!("DELETE /files{path}"));
                json(200, json!({ "ok": true }))
            }
            Err(e) => server_error(e),
        },
    }
}

/// A body of type `T`, or a 400 that says what is wrong with it.
fn typed<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T, Refusal> {
    serde_json::from_slice(body).map_err(|e| {
        let problem = if e.is_syntax() || e.is_eof() {
            format!("the body is not JSON: {e}")
        } else {
            format!("{what}: {e}")
        };
        refuse(400, problem)
    })
}

async fn add_user(core: &Arc<Core>, body: &[u8]) -> Reply {
    // The same account a scenario's [[users]] describes.
    let new: crate::ScenarioUser = match typed(
        body,
        "a user is {\"name\", \"password\", \"home\"?, \"read_only\"?, \"chroot\"?, \"own_root\"?}",
    ) {
        Ok(u) => u,
        Err(e) => return e.reply(),
    };
    let user = new.to_user();
    let name = user.name().to_string();
    match core.add_user(user).await {
        Ok(()) => {
            record(core, format!("POST /users {name}"));
            json(201, json!({ "name": name }))
        }
        Err(e) => server_error(e),
    }
}

fn remove_user(core: &Core, raw: &str) -> Reply {
    let name = match percent_decode(raw) {
        Ok(n) => n,
        Err(e) => return error(400, e),
    };
    match core.remove_user(&name) {
        Ok(true) => {
            record(core, format!("DELETE /users/{name}"));
            json(200, json!({ "ok": true }))
        }
        Ok(false) => error(404, format!("no user {name:?}")),
        Err(e) => server_error(e),
    }
}

/// The body of `POST /expectations`. An unknown key is refused (a typo
/// would otherwise make an expectation that checks less than asked).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewExpectation {
    command: String,
    arg: Option<String>,
    user: Option<String>,
    session: Option<u64>,
    times: Option<u64>,
    at_least: Option<u64>,
    at_most: Option<u64>,
    #[serde(default)]
    never: bool,
}

fn expect(core: &Core, body: &[u8]) -> Reply {
    let new: NewExpectation = match typed(body, "an expectation is {\"command\": \"VERB\", ...}") {
        Ok(e) => e,
        Err(e) => return e.reply(),
    };
    let mut matcher = Matcher::command(&new.command);
    if let Some(a) = &new.arg {
        matcher = matcher.arg(a);
    }
    if let Some(u) = &new.user {
        matcher = matcher.user(u);
    }
    if let Some(s) = new.session {
        matcher = matcher.session(s);
    }
    let counts = [new.times, new.at_least, new.at_most];
    if counts.iter().flatten().count() + usize::from(new.never) > 1 {
        return error(400, "give one of times, at_least, at_most or never");
    }
    let expectation = Expectation::matching(matcher);
    let expectation = match (new.times, new.at_least, new.at_most, new.never) {
        (Some(n), ..) => expectation.times(n),
        (_, Some(n), ..) => expectation.at_least(n),
        (_, _, Some(n), _) => expectation.at_most(n),
        (.., true) => expectation.never(),
        _ => expectation,
    };
    let text = expectation.to_string();
    core.expect(expectation);
    record(core, format!("POST /expectations {text}"));
    json(201, json!({ "expectation": text }))
}

fn verify(core: &Core) -> Reply {
    match core.verify() {
        Ok(()) => json(200, json!({ "ok": true })),
        Err(e) => {
            let unmet: Vec<Value> = e
                .unmet()
                .iter()
                .map(|u| json!({ "expectation": u.expectation().to_string(), "count": u.count() }))
                .collect();
            json(
                409,
                json!({
                    "ok": false,
                    "unmet": unmet,
                    "replay": e.replay_problems(),
                    "transcript": e.transcript().masked().render(),
                }),
            )
        }
    }
}

async fn reset(core: &Arc<Core>) -> Reply {
    match core.reset().await {
        Ok(report) => {
            record(core, "POST /reset".into());
            json(
                200,
                json!({
                    "ok": true,
                    "root_restored": report.root_restored,
                    "detail": report.detail,
                    "sessions_closed": report.sessions_closed,
                }),
            )
        }
        Err(e) => server_error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_and_escapes() {
        let q = parse_query("session_end=2&timeout=5s&command=RETR%20x").unwrap();
        assert_eq!(q["session_end"], "2");
        assert_eq!(q["command"], "RETR x");
        assert!(percent_decode("%zz").is_err());
        assert!(percent_decode("%ff").is_err(), "not UTF-8");
        assert_eq!(percent_decode("a%2Fb").unwrap(), "a/b");
    }

    #[test]
    fn fault_bodies() {
        assert_eq!(rules_of(b"RETR reply=450").unwrap().0, ["RETR reply=450"]);
        assert_eq!(
            rules_of(br#"{"rule": "STOR reply=452"}"#).unwrap().0,
            ["STOR reply=452"]
        );
        let (rules, list) = rules_of(br#"["A close", {"rule": "B close"}]"#).unwrap();
        assert_eq!((rules.len(), list), (2, true));
        assert!(rules_of(b"").is_err());
        assert!(rules_of(b"{\"rul\": 1}").is_err());
    }
}
