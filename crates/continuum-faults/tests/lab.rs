//! The fault lab against the real kernel: namespaces, `tc` faults, processes and private
//! stores. Needs root; without it every test fails with the reason, unless
//! `CONTINUUM_FAULTS_NO_LAB=1`, when it prints the reason and passes.

use std::error::Error;
use std::net::{Ipv4Addr, SocketAddr};
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use continuum_faults::lab::layout::SLOTS;
use continuum_faults::lab::slot::{self, LOCK_DIR};
use continuum_faults::lab::{
    Forwarder, Lab, PostgresServer, ProbeError, Process, ProcessSpec, RedisServer, http_status,
    wait_http_ready,
};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::process::Child;

/// A threaded TCP echo server on every address: `python3 -c ECHO <port>`.
const ECHO: &str = r#"
import socket, sys, threading
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("0.0.0.0", int(sys.argv[1])))
server.listen(64)
def serve(conn):
    while True:
        data = conn.recv(65536)
        if not data:
            return
        conn.sendall(data)
while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
"#;

/// Reads each connection to its end and answers with the byte count: `python3 -c SINK <port>`.
const SINK: &str = r#"
import socket, sys
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("0.0.0.0", int(sys.argv[1])))
server.listen(8)
while True:
    conn, _ = server.accept()
    total = 0
    while True:
        data = conn.recv(1 << 20)
        if not data:
            break
        total += len(data)
    conn.sendall(str(total).encode())
    conn.close()
"#;

/// Connects, sends `ping`, reads it back: `python3 -c PROBE <ip> <port> <timeout s>`. Prints
/// `echo <connect ms> <round trip ms>`, `timeout`, `refused`, `read-timeout` or `error <errno>`.
const PROBE: &str = r#"
import socket, sys, time
sock = socket.socket()
sock.settimeout(float(sys.argv[3]))
start = time.monotonic()
try:
    sock.connect((sys.argv[1], int(sys.argv[2])))
except socket.timeout:
    print("timeout"); sys.exit()
except ConnectionRefusedError:
    print("refused"); sys.exit()
except OSError as error:
    print("error", error.errno); sys.exit()
connected = time.monotonic()
try:
    sock.sendall(b"ping")
    data = b""
    while len(data) < 4:
        chunk = sock.recv(4 - len(data))
        if not chunk:
            break
        data += chunk
except socket.timeout:
    print("read-timeout"); sys.exit()
print("echo %.1f %.1f" % ((connected - start) * 1000, (time.monotonic() - connected) * 1000))
"#;

/// Counts the datagrams arriving on a port for a while, or until enough came:
/// `python3 -c UDP_COUNT <port> <seconds> <enough>`. Prints `ready` once bound, then the count.
const UDP_COUNT: &str = r#"
import socket, sys, time
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("0.0.0.0", int(sys.argv[1])))
print("ready", flush=True)
end = time.monotonic() + float(sys.argv[2])
count = 0
while count < int(sys.argv[3]):
    left = end - time.monotonic()
    if left <= 0:
        break
    sock.settimeout(left)
    try:
        sock.recv(2048)
        count += 1
    except socket.timeout:
        break
print(count, flush=True)
"#;

const ECHO_PORT: u16 = 7000;
const UDP_PORT: u16 = 7001;

/// `true` if the lab can run here. Otherwise panics with the reason, unless
/// `CONTINUUM_FAULTS_NO_LAB=1`, when it prints the reason and the test returns.
async fn lab_available() -> bool {
    let Err(error) = Lab::check().await else { return true };
    let reason = chain(&error);
    if std::env::var("CONTINUUM_FAULTS_NO_LAB").as_deref() == Ok("1") {
        eprintln!("skipped, CONTINUUM_FAULTS_NO_LAB=1: {reason}");
        return false;
    }
    panic!("the fault lab cannot run here: {reason} (set CONTINUUM_FAULTS_NO_LAB=1 to skip)");
}

fn chain(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// What a [`PROBE`] from inside a host saw.
#[derive(Debug, PartialEq)]
enum Seen {
    Echo { connect_ms: f64, round_trip_ms: f64 },
    Timeout,
    Refused,
    Other(String),
}

async fn probe(lab: &Lab, host: usize, ip: Ipv4Addr, port: u16, timeout_s: f64) -> Seen {
    let output = lab
        .command(host, "python3")
        .args(["-c", PROBE, &ip.to_string(), &port.to_string(), &timeout_s.to_string()])
        .output()
        .await
        .expect("python3 runs in the namespace");
    let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let words: Vec<&str> = text.split_whitespace().collect();
    match words.as_slice() {
        ["echo", connect, round_trip] => {
            Seen::Echo { connect_ms: connect.parse().unwrap(), round_trip_ms: round_trip.parse().unwrap() }
        }
        ["timeout"] => Seen::Timeout,
        ["refused"] => Seen::Refused,
        _ => Seen::Other(format!("{text} / {}", String::from_utf8_lossy(&output.stderr))),
    }
}

fn is_echo(seen: &Seen) -> bool {
    matches!(seen, Seen::Echo { .. })
}

/// Starts a Python server in a host and waits until the root namespace reaches it.
async fn serve_in(lab: &Lab, host: usize, script: &str, port: u16) -> Child {
    let child = lab
        .command(host, "python3")
        .args(["-c", script, &port.to_string()])
        .kill_on_drop(true)
        .spawn()
        .expect("python3 starts in the namespace");
    let addr = SocketAddr::from((lab.host_ip(host), port));
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(addr).await.is_err() {
        assert!(Instant::now() < deadline, "the server in host {host} never listened on {addr}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child
}

/// Echoes `ping` through `addr` from the client address, within a second.
async fn echo_from_client(lab: &Lab, addr: SocketAddr) -> std::io::Result<()> {
    echo_from(lab.client_ip(), addr).await
}

/// Echoes `ping` through `addr` from a socket bound to `from`, within a second.
async fn echo_from(from: Ipv4Addr, addr: SocketAddr) -> std::io::Result<()> {
    let exchange = async {
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::from((from, 0)))?;
        let mut stream = socket.connect(addr).await?;
        stream.write_all(b"ping").await?;
        let mut answer = [0; 4];
        stream.read_exact(&mut answer).await?;
        assert_eq!(&answer, b"ping");
        Ok(())
    };
    tokio::time::timeout(Duration::from_secs(1), exchange)
        .await
        .unwrap_or_else(|_| Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "no echo in 1 s")))
}

/// How many datagrams of [`DATAGRAMS`], sent by `send`, reach host `host` within a second:
/// datagrams need no answer, so this sees one direction of a cut alone.
async fn datagrams_reaching<Fut>(lab: &Lab, host: usize, send: impl FnOnce(SocketAddr) -> Fut) -> usize
where
    Fut: std::future::Future<Output = ()>,
{
    let mut counter = lab
        .command(host, "python3")
        .args(["-c", UDP_COUNT, &UDP_PORT.to_string(), "1.0", &DATAGRAMS.to_string()])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(counter.stdout.take().unwrap()).lines();
    assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("ready"));
    send(SocketAddr::from((lab.host_ip(host), UDP_PORT))).await;
    let count = lines.next_line().await.unwrap().expect("a count");
    count.parse().unwrap()
}

const DATAGRAMS: usize = 10;

/// Sends [`DATAGRAMS`] datagrams from a socket bound to `from`.
async fn send_datagrams_from(from: Ipv4Addr, to: SocketAddr) {
    let socket = tokio::net::UdpSocket::bind((from, 0)).await.unwrap();
    for _ in 0..DATAGRAMS {
        socket.send_to(b"hello", to).await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Sends [`DATAGRAMS`] datagrams from inside host `host`.
async fn send_datagrams_in(lab: &Lab, host: usize, to: SocketAddr) {
    let script = "import socket, sys, time\n\
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
        for _ in range(int(sys.argv[3])):\n    sock.sendto(b'hello', (sys.argv[1], int(sys.argv[2]))); time.sleep(0.01)\n";
    let status = lab
        .command(host, "python3")
        .args(["-c", script, &to.ip().to_string(), &to.port().to_string(), &DATAGRAMS.to_string()])
        .status()
        .await
        .unwrap();
    assert!(status.success(), "sending a datagram never fails, even across a cut");
}

/// An echo server on 127.0.0.1 in this process, for the forwarder to reach.
async fn loopback_echo() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        while let Ok((mut stream, _)) = listener.accept().await {
            connections.spawn(async move {
                let (mut read, mut write) = stream.split();
                let _ = tokio::io::copy(&mut read, &mut write).await;
            });
        }
    });
    (addr, task)
}

/// `true` while `pid` exists and is not a zombie.
fn is_alive(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat.rsplit(')').next().and_then(|rest| rest.split_whitespace().next());
    !matches!(state, None | Some("Z"))
}

async fn netns_list() -> String {
    let output = tokio::process::Command::new("ip").args(["netns", "list"]).output().await.unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn has_netns(list: &str, name: &str) -> bool {
    list.lines().any(|line| line.split_whitespace().next() == Some(name))
}

#[tokio::test]
async fn a_cut_makes_connects_between_two_hosts_hang_while_the_client_still_gets_through_and_heal_undoes_it()
{
    if !lab_available().await {
        return;
    }
    let mut lab = Lab::create(2).await.expect("a lab");
    let _echo = serve_in(&lab, 1, ECHO, ECHO_PORT).await;
    let host1 = lab.host_ip(1);
    let echo_addr = SocketAddr::from((host1, ECHO_PORT));

    assert!(is_echo(&probe(&lab, 0, host1, ECHO_PORT, 1.0).await), "host 0 reaches host 1");
    echo_from_client(&lab, echo_addr).await.expect("the client reaches host 1");
    // Nothing listens in host 0: a connect there is refused (an RST comes back) until the cut.
    assert_eq!(probe(&lab, 1, lab.host_ip(0), ECHO_PORT, 1.0).await, Seen::Refused);

    assert_eq!(datagrams_reaching(&lab, 0, |to| send_datagrams_in(&lab, 1, to)).await, DATAGRAMS);
    assert_eq!(datagrams_reaching(&lab, 1, |to| send_datagrams_in(&lab, 0, to)).await, DATAGRAMS);

    lab.cut(0, 1).await.unwrap();
    assert_eq!(datagrams_reaching(&lab, 0, |to| send_datagrams_in(&lab, 1, to)).await, 0, "1 to 0 is cut");
    assert_eq!(datagrams_reaching(&lab, 1, |to| send_datagrams_in(&lab, 0, to)).await, 0, "0 to 1 is cut");
    let started = Instant::now();
    assert_eq!(probe(&lab, 0, host1, ECHO_PORT, 1.0).await, Seen::Timeout, "a cut hangs, never refuses");
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(
        probe(&lab, 1, lab.host_ip(0), ECHO_PORT, 0.5).await,
        Seen::Timeout,
        "no RST the other way either"
    );
    echo_from_client(&lab, echo_addr).await.expect("the client still reaches host 1");

    lab.heal().await.unwrap();
    assert!(is_echo(&probe(&lab, 0, host1, ECHO_PORT, 1.0).await), "healed");
    assert_eq!(probe(&lab, 1, lab.host_ip(0), ECHO_PORT, 1.0).await, Seen::Refused);
    lab.close().await.unwrap();
}

#[tokio::test]
async fn a_delay_adds_its_milliseconds_to_a_round_trip_and_heal_takes_them_away() {
    if !lab_available().await {
        return;
    }
    let mut lab = Lab::create(2).await.expect("a lab");
    let _echo = serve_in(&lab, 1, ECHO, ECHO_PORT).await;
    let host1 = lab.host_ip(1);

    let Seen::Echo { round_trip_ms: before, .. } = probe(&lab, 0, host1, ECHO_PORT, 2.0).await else {
        panic!("host 0 reaches host 1")
    };
    assert!(before < 50.0, "an undelayed round trip takes {before} ms");

    lab.delay(0, 1, 200).await.unwrap();
    let seen = probe(&lab, 0, host1, ECHO_PORT, 2.0).await;
    let Seen::Echo { connect_ms, round_trip_ms } = seen else { panic!("delayed, not cut: {seen:?}") };
    assert!(round_trip_ms >= 200.0, "a 200 ms delay, and the round trip took {round_trip_ms} ms");
    assert!(connect_ms >= 200.0, "the handshake is delayed too ({connect_ms} ms)");
    assert!(round_trip_ms < 400.0, "one delay per round trip, not two: {round_trip_ms} ms");

    lab.delay(0, 1, 50).await.unwrap();
    let Seen::Echo { round_trip_ms: changed, .. } = probe(&lab, 0, host1, ECHO_PORT, 2.0).await else {
        panic!("still reachable")
    };
    assert!((50.0..150.0).contains(&changed), "the delay changed to 50 ms; the round trip took {changed} ms");

    lab.heal().await.unwrap();
    let Seen::Echo { round_trip_ms: after, .. } = probe(&lab, 0, host1, ECHO_PORT, 2.0).await else {
        panic!("healed")
    };
    assert!(after < 50.0, "healed, and the round trip took {after} ms");
    lab.close().await.unwrap();
}

#[tokio::test]
async fn a_service_cut_stops_one_host_reaching_the_forwarder_but_not_the_other() {
    if !lab_available().await {
        return;
    }
    let mut lab = Lab::create(2).await.expect("a lab");
    let (target, _echo) = loopback_echo().await;
    let forwarder = Forwarder::start(SocketAddr::from((lab.service_ip(), 0)), target).await.unwrap();
    let port = forwarder.local_addr().port();
    let service = lab.service_ip();

    let _echo0 = serve_in(&lab, 0, ECHO, ECHO_PORT).await;
    let host0 = SocketAddr::from((lab.host_ip(0), ECHO_PORT));

    assert!(is_echo(&probe(&lab, 0, service, port, 1.0).await), "host 0 reaches the service");
    echo_from(service, host0).await.expect("the service address reaches host 0");
    assert_eq!(datagrams_reaching(&lab, 0, |to| send_datagrams_from(service, to)).await, DATAGRAMS);
    lab.cut_service(0).await.unwrap();
    assert_eq!(probe(&lab, 0, service, port, 1.0).await, Seen::Timeout);
    let back = echo_from(service, host0).await.expect_err("nor the other way");
    assert_eq!(back.kind(), std::io::ErrorKind::TimedOut);
    let from_service = datagrams_reaching(&lab, 0, |to| send_datagrams_from(service, to)).await;
    assert_eq!(from_service, 0, "what the service sends never reaches host 0, answer or not");
    echo_from_client(&lab, host0).await.expect("the client still reaches host 0");
    assert!(is_echo(&probe(&lab, 1, service, port, 1.0).await), "host 1 still reaches the service");
    lab.heal().await.unwrap();
    assert!(is_echo(&probe(&lab, 0, service, port, 1.0).await), "healed");
    echo_from(service, host0).await.expect("healed, the other way too");
    lab.close().await.unwrap();
}

#[tokio::test]
async fn an_isolated_host_reaches_neither_host_nor_service_but_the_client_reaches_it() {
    if !lab_available().await {
        return;
    }
    let mut lab = Lab::create(2).await.expect("a lab");
    let _echo0 = serve_in(&lab, 0, ECHO, ECHO_PORT).await;
    let _echo1 = serve_in(&lab, 1, ECHO, ECHO_PORT).await;
    let (target, _echo) = loopback_echo().await;
    let forwarder = Forwarder::start(SocketAddr::from((lab.service_ip(), 0)), target).await.unwrap();
    let service_port = forwarder.local_addr().port();

    lab.isolate(0).await.unwrap();
    assert_eq!(probe(&lab, 0, lab.host_ip(1), ECHO_PORT, 1.0).await, Seen::Timeout, "host 0 to host 1");
    assert_eq!(probe(&lab, 1, lab.host_ip(0), ECHO_PORT, 1.0).await, Seen::Timeout, "host 1 to host 0");
    assert_eq!(
        probe(&lab, 0, lab.service_ip(), service_port, 1.0).await,
        Seen::Timeout,
        "host 0 to the service"
    );
    echo_from_client(&lab, SocketAddr::from((lab.host_ip(0), ECHO_PORT)))
        .await
        .expect("the client reaches host 0");
    assert!(is_echo(&probe(&lab, 1, lab.service_ip(), service_port, 1.0).await), "host 1 is not isolated");
    lab.close().await.unwrap();
}

#[tokio::test]
async fn byte_counters_grow_by_what_crossed_the_wire_in_the_right_direction() {
    if !lab_available().await {
        return;
    }
    let lab = Lab::create(2).await.expect("a lab");
    let _sink = serve_in(&lab, 1, SINK, ECHO_PORT).await;
    let (rx1, tx1) = lab.bytes(1).await.unwrap();
    let (rx0, tx0) = lab.bytes(0).await.unwrap();

    const PAYLOAD: usize = 1 << 20;
    let mut stream = TcpStream::connect((lab.host_ip(1), ECHO_PORT)).await.unwrap();
    stream.write_all(&vec![7u8; PAYLOAD]).await.unwrap();
    stream.shutdown().await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert_eq!(answer, PAYLOAD.to_string(), "the sink read the whole payload");

    let (rx1_after, tx1_after) = lab.bytes(1).await.unwrap();
    let (rx0_after, tx0_after) = lab.bytes(0).await.unwrap();
    assert!(rx1_after - rx1 >= PAYLOAD as u64, "host 1 received {} bytes", rx1_after - rx1);
    assert!(tx1_after - tx1 < (PAYLOAD / 4) as u64, "host 1 sent only acknowledgements: {}", tx1_after - tx1);
    assert!(rx0_after - rx0 < 64 << 10 && tx0_after - tx0 < 64 << 10, "host 0 took no part");
    lab.close().await.unwrap();
}

#[tokio::test]
async fn two_labs_get_their_own_slots_and_subnets_and_leave_nothing_behind() {
    if !lab_available().await {
        return;
    }
    let first = Lab::create(2).await.expect("a first lab");
    let second = Lab::create(1).await.expect("a second lab at the same time");
    assert_ne!(first.slot(), second.slot());
    assert_ne!(first.client_ip(), second.client_ip());
    assert_eq!(first.host_ip(0).octets()[2], first.slot(), "the subnet follows the slot");
    assert_eq!(second.host_ip(0).octets()[2], second.slot());

    let list = netns_list().await;
    let (first_ns, second_ns) = (first.netns(1), second.netns(0));
    assert!(has_netns(&list, &first_ns) && has_netns(&list, &second_ns), "{list}");

    drop(first);
    let list = netns_list().await;
    assert!(!has_netns(&list, &first_ns), "dropping the first lab removes its namespaces: {list}");
    assert!(has_netns(&list, &second_ns), "and leaves the second's alone: {list}");
    second.close().await.unwrap();
    assert!(!has_netns(&netns_list().await, &second_ns));
}

#[tokio::test]
async fn a_new_holder_of_a_slot_removes_what_a_dead_holder_left_and_kills_what_ran_there() {
    if !lab_available().await {
        return;
    }
    let lock =
        tokio::task::spawn_blocking(|| slot::acquire(LOCK_DIR.as_ref(), SLOTS)).await.unwrap().unwrap();
    let n = lock.slot();
    // What a crashed run leaves: a namespace with a process still in it, and a bridge.
    let stale_ns = format!("cf{n}h5");
    let run = |args: Vec<String>| async move {
        let status = tokio::process::Command::new(&args[0]).args(&args[1..]).status().await.unwrap();
        assert!(status.success(), "{args:?}");
    };
    run(vec!["ip".into(), "netns".into(), "add".into(), stale_ns.clone()]).await;
    run(vec!["ip".into(), "link".into(), "add".into(), format!("cf{n}br"), "type".into(), "bridge".into()])
        .await;
    let mut orphan = tokio::process::Command::new("ip")
        .args(["netns", "exec", &stale_ns, "sleep", "30"])
        .kill_on_drop(true)
        .spawn()
        .unwrap();

    let lab = Lab::create_in(lock, 1).await.expect("a lab over the leftovers");
    assert!(!has_netns(&netns_list().await, &stale_ns), "the stale namespace is gone");
    let exited = tokio::time::timeout(Duration::from_secs(2), orphan.wait()).await;
    assert!(exited.is_ok(), "the process left in the stale namespace was killed");
    let refused = echo_from_client(&lab, SocketAddr::from((lab.host_ip(0), 1))).await.unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused, "the new host is up and answers");
    lab.close().await.unwrap();
}

#[tokio::test]
async fn a_process_pauses_resumes_dies_restarts_and_dies_with_its_owner() {
    if !lab_available().await {
        return;
    }
    let lab = Lab::create(1).await.expect("a lab");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("http.log");
    let addr = SocketAddr::from((lab.host_ip(0), 8000));
    let spec = ProcessSpec::new("python3", &log)
        .args(["-m", "http.server", "--bind", "0.0.0.0", "8000"])
        .env("PYTHONUNBUFFERED", "1")
        .current_dir(dir.path())
        .in_netns(lab.netns(0));
    let mut server = Process::start(spec).await.unwrap();
    wait_http_ready(addr, "/", Duration::from_secs(5)).await.expect("the server answers");
    assert!(server.rss_bytes().await.unwrap() > 1 << 20, "a Python server holds over a MiB");

    server.pause().await.unwrap();
    let paused = http_status(addr, "/", Duration::from_millis(500)).await;
    assert!(matches!(paused, Err(ProbeError::Timeout)), "a paused server does not answer: {paused:?}");
    server.resume().await.unwrap();
    wait_http_ready(addr, "/", Duration::from_secs(2)).await.expect("resumed");

    let status = server.kill().await.unwrap().expect("it was running");
    assert_eq!(status.signal(), Some(9));
    assert!(!server.is_running());
    assert!(http_status(addr, "/", Duration::from_millis(500)).await.is_err(), "killed");
    server.restart().await.unwrap();
    wait_http_ready(addr, "/", Duration::from_secs(5)).await.expect("restarted");
    assert_eq!(server.starts(), 2);

    // A paused server still stops on SIGTERM: stop sends SIGCONT with it.
    server.pause().await.unwrap();
    let status = server.stop(Duration::from_secs(3)).await.unwrap().expect("it was running");
    assert_eq!(status.signal(), Some(15), "stopped by SIGTERM, not killed after the timeout");
    server.restart().await.unwrap();
    wait_http_ready(addr, "/", Duration::from_secs(5)).await.expect("restarted again");

    let text = tokio::fs::read_to_string(&log).await.unwrap();
    assert!(
        text.contains("start #1 at") && text.contains("restart #2 at") && text.contains("restart #3 at"),
        "{text}"
    );
    assert!(text.contains("GET / HTTP/1.1"), "the server's own output is in the log: {text}");

    let pid = server.pid().unwrap();
    drop(server);
    let deadline = Instant::now() + Duration::from_secs(2);
    while is_alive(pid) {
        assert!(Instant::now() < deadline, "pid {pid} still runs after its Process was dropped");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    lab.close().await.unwrap();
}

#[tokio::test]
async fn a_forwarder_pipes_both_ways_refuses_beyond_its_limit_and_stops_on_drop() {
    let (target, _echo) = loopback_echo().await;
    let forwarder =
        Forwarder::with_limit(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), target, 1).await.unwrap();
    let addr = forwarder.local_addr();
    let mut first = TcpStream::connect(addr).await.unwrap();
    first.write_all(b"ping").await.unwrap();
    let mut answer = [0; 4];
    first.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"ping");
    let counted = Instant::now() + Duration::from_secs(1);
    while forwarder.bytes() < 8 && Instant::now() < counted {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(forwarder.bytes(), 8, "four bytes each way are counted");

    let mut second = TcpStream::connect(addr).await.unwrap();
    let mut buf = [0; 1];
    let read = tokio::time::timeout(Duration::from_secs(1), second.read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "beyond the limit a connection is closed at once: {read:?}"
    );

    drop(first);
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let mut third = TcpStream::connect(addr).await.unwrap();
        third.write_all(b"pong").await.unwrap();
        if tokio::time::timeout(Duration::from_millis(200), third.read_exact(&mut answer))
            .await
            .is_ok_and(|r| r.is_ok())
        {
            assert_eq!(&answer, b"pong");
            break;
        }
        assert!(Instant::now() < deadline, "a freed place is never reused");
    }

    drop(forwarder);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(TcpStream::connect(addr).await.is_err(), "a dropped forwarder no longer listens");
}

/// Sends one command in RESP and returns the reply (a bulk string's value, or the status line).
async fn redis(addr: SocketAddr, args: &[&str]) -> String {
    let mut request = format!("*{}\r\n", args.len());
    for arg in args {
        request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    let mut stream = BufReader::new(TcpStream::connect(addr).await.unwrap());
    stream.get_mut().write_all(request.as_bytes()).await.unwrap();
    let mut line = String::new();
    stream.read_line(&mut line).await.unwrap();
    if line.starts_with('$') && !line.starts_with("$-1") {
        line.clear();
        stream.read_line(&mut line).await.unwrap();
    }
    line.trim_end().to_owned()
}

#[tokio::test]
async fn a_private_redis_keeps_what_it_acknowledged_across_a_restart_and_a_kill() {
    if !lab_available().await {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut server = RedisServer::start(dir.path()).await.unwrap();
    assert_ne!(server.addr().port(), 6379, "not the machine's Redis");
    assert_eq!(redis(server.addr(), &["SET", "before-restart", "one"]).await, "+OK");
    server.restart().await.unwrap();
    assert_eq!(redis(server.addr(), &["GET", "before-restart"]).await, "one");

    assert_eq!(redis(server.addr(), &["SET", "before-kill", "two"]).await, "+OK");
    server.kill().await.unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(300), TcpStream::connect(server.addr()))
            .await
            .is_ok_and(|c| c.is_err())
    );
    server.restart().await.unwrap();
    assert_eq!(redis(server.addr(), &["GET", "before-kill"]).await, "two", "the append-only file was synced");
    assert_eq!(redis(server.addr(), &["GET", "before-restart"]).await, "one");
}

#[tokio::test]
async fn a_private_postgres_keeps_committed_rows_across_a_restart_and_a_kill() {
    if !lab_available().await {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut server = PostgresServer::start(dir.path()).await.unwrap();
    assert!(server.url().ends_with("/continuum"), "{}", server.url());

    let connect = |url: String| async move {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
        let task = tokio::spawn(connection);
        (client, task)
    };
    let (client, _connection) = connect(server.url()).await;
    client.batch_execute("CREATE TABLE kept (id int PRIMARY KEY, note text)").await.unwrap();
    client.execute("INSERT INTO kept VALUES (1, 'before restart')", &[]).await.unwrap();
    drop(client);

    server.restart().await.unwrap();
    let (client, _connection) = connect(server.url()).await;
    let rows = client.query("SELECT note FROM kept WHERE id = 1", &[]).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, String>(0), "before restart");
    client.execute("INSERT INTO kept VALUES (2, 'before kill')", &[]).await.unwrap();

    // A pause freezes the backends too (PostgreSQL's workers leave the postmaster's process
    // group, so only a walk of its descendants reaches them).
    server.process().pause().await.unwrap();
    let paused = tokio::time::timeout(Duration::from_millis(500), client.query("SELECT 1", &[])).await;
    assert!(paused.is_err(), "a paused server does not answer");
    server.process().resume().await.unwrap();
    tokio::time::timeout(Duration::from_secs(2), client.query("SELECT 1", &[])).await.unwrap().unwrap();

    // A kill takes every server process at once, a backend busy in a query too (one that
    // computes, never waiting, would not even notice its postmaster died).
    let backend: i32 = client.query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0);
    let busy = tokio::spawn(async move {
        let _ = client.query("SELECT count(*) FROM generate_series(1, 1000000000000)", &[]).await;
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.kill().await.unwrap();
    tokio::time::timeout(Duration::from_secs(2), busy)
        .await
        .expect("the busy query ended with its backend")
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(1);
    while is_alive(backend as u32) {
        assert!(Instant::now() < deadline, "backend {backend} outlived the kill");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.restart().await.unwrap();
    let (client, _connection) = connect(server.url()).await;
    let count: i64 = client.query_one("SELECT count(*) FROM kept", &[]).await.unwrap().get(0);
    assert_eq!(count, 2, "both committed rows survived");
}
