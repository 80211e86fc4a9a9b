//! The mixed workload: clients that log in, validate, read, patch (with and without
//! `If-Match`), rotate and revoke sessions, and clients that edit documents, each recording every
//! operation it finishes.
//!
//! Every logical session belongs to one client, which issues its operations one at a time, as
//! the checker expects. After a revocation the client probes the session twice on random routes
//! (what the revocation check looks at); every 25 operations it leaves its session live and logs
//! in again, so the end state holds many live sessions to read back. A client backs off after an
//! operation without an answer, as a real one would from a server that is down.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use continuum_client::{BearerKey, CreateSession, requests};
use serde_json::json;

use super::answer::{doc_answer, session_answer};
use super::caller::Caller;
use super::recorder::Recorder;
use crate::history::{DocRef, Op, Outcome, SessionRef};

/// The root map document edits write into.
pub const EDITS_MAP: &str = "edits";

/// What every client of a run shares.
#[derive(Clone)]
pub struct WorkloadConfig {
    /// The backend plane's key.
    pub key: BearerKey,
    /// Sealed-cookie sessions rather than stored ones.
    pub sealed: bool,
    /// Pause between a client's operations.
    pub think: Duration,
    /// Set to stop every client after its current operation.
    pub stop: Arc<AtomicBool>,
    /// Where records go.
    pub recorder: Recorder,
}

/// A session a client logged in, as the client knows it.
#[derive(Clone, Debug)]
pub struct Login {
    /// Its name in the history.
    pub name: SessionRef,
    /// Its public id.
    pub sid: String,
    /// Its current token.
    pub token: String,
    /// The last version the client saw.
    pub version: Option<u64>,
    /// A rotation or revocation ended without an answer, or it was revoked: not used again.
    pub retired: bool,
}

/// What a client leaves for the final reads.
#[derive(Debug, Default)]
pub struct ClientEnd {
    /// Which client.
    pub client: u32,
    /// Every session it logged in.
    pub logins: Vec<Login>,
    /// The documents it edited.
    pub docs: Vec<DocRef>,
}

/// One client: session operations, or document edits when `edits_docs`.
pub struct Client {
    id: u32,
    config: WorkloadConfig,
    caller: Caller,
    rng: fastrand::Rng,
    end: ClientEnd,
    next_value: u64,
    /// The last operation ended without an answer.
    backoff: bool,
}

impl Client {
    /// Client `id` with its own connections and random choices from `seed`.
    pub fn new(id: u32, config: WorkloadConfig, caller: Caller, seed: u64) -> Self {
        let rng = fastrand::Rng::with_seed(seed ^ (u64::from(id) << 32));
        Self {
            id,
            config,
            caller,
            rng,
            end: ClientEnd { client: id, ..ClientEnd::default() },
            next_value: 1,
            backoff: false,
        }
    }

    /// Runs session operations until told to stop.
    pub async fn run_sessions(mut self) -> ClientEnd {
        let mut logins = 0u32;
        while !self.stopped() {
            let name = SessionRef(format!("c{}s{logins}", self.id));
            logins += 1;
            let Some(mut login) = self.create(name).await else { continue };
            for _ in 0..25 {
                if self.stopped() || login.retired {
                    break;
                }
                self.step(&mut login).await;
                self.think().await;
            }
            self.end.logins.push(login);
        }
        self.end
    }

    /// Runs document edits until told to stop.
    pub async fn run_docs(mut self) -> ClientEnd {
        let doc = DocRef(format!("user:docs{}/notes", self.id));
        self.end.docs.push(doc.clone());
        while !self.stopped() {
            let started = self.config.recorder.start();
            let key = format!("e{}", self.next_value);
            self.next_value += 1;
            let route = self.route();
            let (scope, name) = doc.0.split_once('/').expect("scope/name");
            let patch = json!({ EDITS_MAP: { key.clone(): 1 } });
            let answer =
                self.caller.send(route, requests::patch_doc(&self.config.key, scope, name, &patch)).await;
            let outcome = doc_answer(answer, EDITS_MAP);
            self.record(started, route, Op::DocEdit { doc: doc.clone(), key }, outcome, false);
            self.think().await;
        }
        self.end
    }

    async fn create(&mut self, name: SessionRef) -> Option<Login> {
        // One principal per login: the per-principal session cap must not sign the workload's
        // own sessions out.
        let principal = format!("p{}", name.0);
        let ask = CreateSession {
            principal: Some(principal.clone()),
            sealed: self.config.sealed,
            ..CreateSession::default()
        };
        let route = self.route();
        let started = self.config.recorder.start();
        let answer =
            session_answer(self.caller.send(route, requests::create_session(&self.config.key, &ask)).await);
        let op = Op::Create { session: name.clone(), principal, sealed: self.config.sealed };
        let login = match (&answer.outcome, answer.token, answer.sid) {
            (Outcome::Ok(observed), Some(token), Some(sid)) => {
                Some(Login { name, sid, token, version: observed.version, retired: false })
            }
            _ => None,
        };
        self.record(started, route, op, answer.outcome, false);
        if login.is_none() {
            self.think().await;
        }
        login
    }

    /// One operation on `login`, chosen at random.
    async fn step(&mut self, login: &mut Login) {
        let roll = self.rng.u32(0..100);
        match (self.config.sealed, roll) {
            (true, 0..94) | (false, 0..42) => self.validate(login, false).await,
            (false, 42..54) => self.get(login).await,
            (false, 54..91) => self.patch(login).await,
            (false, 91..96) => self.rotate(login).await,
            _ => {
                self.revoke(login).await;
                for _ in 0..2 {
                    self.think().await;
                    self.validate(login, false).await;
                }
            }
        }
    }

    /// Validates `login` on a random route (`final_read`: the end-state read on `route`).
    pub async fn validate(&mut self, login: &mut Login, final_read: bool) {
        let route = self.route();
        self.validate_on(login, route, final_read).await;
    }

    /// Validates `login` on `route`.
    pub async fn validate_on(&mut self, login: &mut Login, route: usize, final_read: bool) {
        let started = self.config.recorder.start();
        let answer =
            session_answer(self.caller.send(route, requests::validate(&self.config.key, &login.token)).await);
        if let Some(observed) = answer.outcome.observed() {
            login.version = observed.version.or(login.version);
        }
        if let Some(token) = answer.token {
            login.token = token;
        }
        self.record(started, route, Op::Validate { session: login.name.clone() }, answer.outcome, final_read);
    }

    async fn get(&mut self, login: &mut Login) {
        let route = self.route();
        let started = self.config.recorder.start();
        let answer = session_answer(
            self.caller.send(route, requests::get_session(&self.config.key, &login.sid)).await,
        );
        if let Some(observed) = answer.outcome.observed() {
            login.version = observed.version.or(login.version);
        }
        self.record(started, route, Op::Get { session: login.name.clone() }, answer.outcome, false);
    }

    async fn patch(&mut self, login: &mut Login) {
        let route = self.route();
        let key = if self.rng.bool() { "a" } else { "b" };
        let value = self.next_value;
        self.next_value += 1;
        let if_match = if self.rng.bool() { login.version } else { None };
        let started = self.config.recorder.start();
        let request =
            requests::patch_attributes(&self.config.key, &login.sid, &json!({ key: value }), if_match);
        let answer = session_answer(self.caller.send(route, request).await);
        if let Some(observed) = answer.outcome.observed() {
            login.version = observed.version.or(login.version);
        }
        let op = Op::Patch { session: login.name.clone(), key: key.to_owned(), value, if_match };
        self.record(started, route, op, answer.outcome, false);
    }

    async fn rotate(&mut self, login: &mut Login) {
        let route = self.route();
        let started = self.config.recorder.start();
        let request = requests::rotate_session(&self.config.key, &login.sid);
        let answer = session_answer(self.caller.send(route, request).await);
        match (&answer.outcome, answer.token) {
            (Outcome::Ok(observed), Some(token)) => {
                login.token = token;
                login.version = observed.version.or(login.version);
            }
            (Outcome::Unknown { .. }, _) => login.retired = true,
            _ => {}
        }
        self.record(started, route, Op::Rotate { session: login.name.clone() }, answer.outcome, false);
    }

    async fn revoke(&mut self, login: &mut Login) {
        let route = self.route();
        let started = self.config.recorder.start();
        let request = match self.config.sealed {
            true => requests::revoke_sealed(&self.config.key, &login.sid, &login.token),
            false => requests::revoke_session(&self.config.key, &login.sid),
        };
        let answer = session_answer(self.caller.send(route, request).await);
        self.record(started, route, Op::Revoke { session: login.name.clone() }, answer.outcome, false);
        login.retired = true;
    }

    /// Reads `doc` on `route` as an end-state read.
    pub async fn read_doc(&mut self, doc: &DocRef, route: usize) {
        let (scope, name) = doc.0.split_once('/').expect("scope/name");
        let started = self.config.recorder.start();
        let answer = self.caller.send(route, requests::get_doc(&self.config.key, scope, name)).await;
        let outcome = doc_answer(answer, EDITS_MAP);
        self.record(started, route, Op::DocRead { doc: doc.clone() }, outcome, true);
    }

    fn record(
        &mut self,
        started: super::recorder::Started,
        route: usize,
        op: Op,
        outcome: Outcome,
        final_read: bool,
    ) {
        self.backoff = matches!(outcome, Outcome::Unknown { .. });
        let name = &self.caller.routes()[route].name;
        self.config.recorder.finish(started, self.id, name, op, outcome, final_read);
    }

    fn route(&mut self) -> usize {
        self.rng.usize(0..self.caller.routes().len())
    }

    fn stopped(&self) -> bool {
        self.config.stop.load(Ordering::Relaxed)
    }

    /// Waits before the next operation: the think time, or twenty times it after an operation
    /// without an answer (a client backs off from a server that is down rather than spinning).
    async fn think(&self) {
        let pause = if self.backoff { self.config.think * 20 } else { self.config.think };
        tokio::time::sleep(pause).await;
    }
}
