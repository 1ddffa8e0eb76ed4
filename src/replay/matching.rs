//! Which recorded step answers a client's command.
//!
//! In `sequence` mode each client session follows one recorded session,
//! chosen by connection order (or, once USER names someone, the first
//! recorded session of that user): the next recorded command must be the
//! one the client sends. Commands that clients send when they like
//! ([`FLOATING`]) are answered from what was recorded for them wherever
//! they come. In `lookup` mode every command is answered by what the
//! session recorded for the same command, in order, the last one sticking.

use std::collections::HashMap;
use std::sync::Mutex;

use super::format::{Matching, Passwords, Recording, Step};

/// Commands clients send in any order: answered from the recording
/// wherever they come.
pub(crate) const FLOATING: &[&str] = &[
    "NOOP", "FEAT", "SYST", "PWD", "XPWD", "TYPE", "OPTS", "SIZE", "MDTM", "PASV", "EPSV", "HELP",
    "STAT", "MODE", "STRU", "CLNT",
];

/// Commands the replaying server answers itself (its own TLS), skipped in
/// the recording.
pub(crate) const ENGINE: &[&str] = &["AUTH", "PBSZ", "PROT", "CCC"];

/// A command the recording does not hold at that point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Miss {
    pub session: u64,
    pub command: String,
    /// The command the recording expected next, if any.
    pub expected: Option<String>,
}

impl std::fmt::Display for Miss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "session {}: {:?} is not in the recording",
            self.session, self.command
        )?;
        match &self.expected {
            Some(e) => write!(f, " (it expected {e:?} next)"),
            None => write!(f, " (its session had ended)"),
        }
    }
}

/// A recording being served: what every session shares.
pub(crate) struct Replay {
    pub recording: Recording,
    /// Which steps of which session have been used, for `strict`.
    used: Mutex<Vec<Vec<bool>>>,
    /// Recorded sessions taken by a client so far.
    taken: Mutex<Vec<usize>>,
    misses: Mutex<Vec<Miss>>,
}

impl Replay {
    pub fn new(recording: Recording) -> Self {
        let used = recording
            .sessions
            .iter()
            .map(|s| vec![false; s.steps.len()])
            .collect();
        let taken = vec![0; recording.sessions.len()];
        Replay {
            recording,
            used: Mutex::new(used),
            taken: Mutex::new(taken),
            misses: Mutex::new(Vec::new()),
        }
    }

    /// The recorded session for the `n`th client session (from 1).
    pub fn assign(&self, n: u64) -> Cursor {
        let count = self.recording.sessions.len();
        let index = ((n.max(1) - 1) as usize) % count;
        self.take(index);
        Cursor {
            session: index,
            pos: 0,
            seen: HashMap::new(),
        }
    }

    fn take(&self, index: usize) {
        let mut taken = self.taken.lock().unwrap_or_else(|p| p.into_inner());
        taken[index] += 1;
    }

    /// Moves `cursor` to the recorded session of `user`, if the recording
    /// has several users and the current one is not theirs: the one least
    /// taken, first in order.
    pub fn follow_user(&self, cursor: &mut Cursor, user: &str) {
        let sessions = &self.recording.sessions;
        if sessions[cursor.session].user.as_deref() == Some(user) {
            return;
        }
        let taken = self.taken.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let best = sessions
            .iter()
            .enumerate()
            .filter(|(_, s)| s.user.as_deref() == Some(user))
            .min_by_key(|(i, _)| taken[*i]);
        if let Some((index, _)) = best {
            // Up to its USER, the new session is taken as already played.
            let pos = sessions[index]
                .steps
                .iter()
                .position(|s| s.verb() == "USER")
                .unwrap_or(0);
            self.take(index);
            *cursor = Cursor {
                session: index,
                pos,
                seen: HashMap::new(),
            };
        }
    }

    /// The step that answers `line` for `cursor`, or the miss.
    pub fn answer(&self, cursor: &mut Cursor, session_id: u64, line: &str) -> Result<Step, Miss> {
        let (verb, arg) = crate::protocol::split(line);
        let verb = verb.to_ascii_uppercase();
        let arg = arg.unwrap_or("");
        let steps = &self.recording.sessions[cursor.session].steps;
        let passwords = self.recording.settings.passwords;
        let same = |s: &Step| {
            s.verb() == verb
                && (s.arg() == arg
                    || (verb == "PASS" && passwords == Passwords::Redacted)
                    // The client's address and port change from run to run.
                    || matches!(verb.as_str(), "PASV" | "EPSV" | "PORT" | "EPRT"))
        };
        let found = match self.recording.settings.matching {
            Matching::Lookup => cursor.nth_of(steps, &verb, arg, same),
            Matching::Sequence => {
                // The next step that is not one a client may skip.
                let mut i = cursor.pos;
                while i < steps.len() && skippable(&steps[i]) && !same(&steps[i]) {
                    i += 1;
                }
                if i < steps.len() && same(&steps[i]) {
                    cursor.pos = i + 1;
                    Some(i)
                } else if FLOATING.contains(&verb.as_str()) {
                    cursor.nth_of(steps, &verb, arg, same)
                } else {
                    None
                }
            }
        };
        match found {
            Some(i) => {
                self.used.lock().unwrap_or_else(|p| p.into_inner())[cursor.session][i] = true;
                Ok(steps[i].clone())
            }
            None => {
                let expected = steps[cursor.pos.min(steps.len())..]
                    .iter()
                    .find(|s| !skippable(s))
                    .and_then(|s| s.command.clone());
                let miss = Miss {
                    session: session_id,
                    command: line.to_string(),
                    expected,
                };
                self.misses
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(miss.clone());
                Err(miss)
            }
        }
    }

    /// The greeting of the cursor's session.
    pub fn greeting(&self, cursor: &mut Cursor) -> Option<Vec<String>> {
        let steps = &self.recording.sessions[cursor.session].steps;
        let first = steps.first().filter(|s| s.command.is_none())?;
        cursor.pos = cursor.pos.max(1);
        self.used.lock().unwrap_or_else(|p| p.into_inner())[cursor.session][0] = true;
        first.replies.first().cloned()
    }

    /// What `verify()` reports: the misses, and with `strict` the recorded
    /// commands no client used.
    pub fn problems(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .misses
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|m| format!("replay miss: {m}"))
            .collect();
        if self.recording.settings.strict {
            let used = self.used.lock().unwrap_or_else(|p| p.into_inner());
            for (s, session) in self.recording.sessions.iter().enumerate() {
                for (i, step) in session.steps.iter().enumerate() {
                    if let (false, Some(c)) = (used[s][i], &step.command) {
                        if !ENGINE.contains(&step.verb().as_str()) {
                            out.push(format!(
                                "replay: {}:{}: {c:?} was never used",
                                session.file.display(),
                                step.line
                            ));
                        }
                    }
                }
            }
        }
        out
    }

    /// Forgets the misses and uses (a reset).
    pub fn reset(&self) {
        self.misses
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        for u in self
            .used
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter_mut()
        {
            u.iter_mut().for_each(|b| *b = false);
        }
        for t in self
            .taken
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter_mut()
        {
            *t = 0;
        }
    }
}

/// A step a client may not send at all: a floating command, or one the
/// replaying server answers itself.
fn skippable(step: &Step) -> bool {
    let verb = step.verb();
    FLOATING.contains(&verb.as_str()) || ENGINE.contains(&verb.as_str())
}

/// Where one client session is in its recorded session.
#[derive(Debug, Clone)]
pub(crate) struct Cursor {
    session: usize,
    /// The next step in sequence.
    pos: usize,
    /// How many times each (verb, argument) was answered out of sequence.
    seen: HashMap<(String, String), usize>,
}

impl Cursor {
    /// The `n`th step for this command, `n` counting how often it was
    /// asked; past the last one, the last one again.
    fn nth_of(
        &mut self,
        steps: &[Step],
        verb: &str,
        arg: &str,
        same: impl Fn(&Step) -> bool,
    ) -> Option<usize> {
        let all: Vec<usize> = (0..steps.len()).filter(|&i| same(&steps[i])).collect();
        let n = self
            .seen
            .entry((verb.to_string(), arg.to_string()))
            .or_insert(0);
        let i = *all.get(*n).or(all.last())?;
        *n += 1;
        Some(i)
    }
}

/// A recorded final reply for a transfer that moved `actual` bytes where
/// the recording moved `recorded`: the count is replaced where the text
/// holds it (Pure-FTPd's `226-… 12 bytes`, STOU's size).
pub(crate) fn final_reply(
    lines: Vec<String>,
    recorded: u64,
    actual: u64,
) -> crate::protocol::Reply {
    let code = lines
        .first()
        .and_then(|l| l.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or(226);
    let lines = if recorded == actual {
        lines
    } else {
        let (from, to) = (recorded.to_string(), actual.to_string());
        lines
            .into_iter()
            .map(|l| {
                let (head, text) = l.split_at(l.len().min(4));
                let words: Vec<String> = text
                    .split(' ')
                    .map(|w| {
                        let core = w.trim_matches(|c: char| !c.is_ascii_digit());
                        if core == from {
                            w.replacen(&from, &to, 1)
                        } else {
                            w.to_string()
                        }
                    })
                    .collect();
                format!("{head}{}", words.join(" "))
            })
            .collect()
    };
    crate::protocol::Reply::raw(code, lines)
}
