//! ROS 2 traffic for real, between the host and environments: a publisher and a subscriber
//! built by the test against Debian's Fast DDS 2.9 (the transports of Humble's and Jazzy's
//! default middleware: UDPv4 for discovery, shared memory for peers on the same host) and
//! Cyclone DDS, exchanging samples large enough to be an image (128 KiB): host → environment,
//! environment → host, environment → environment, with the default container (the host's
//! network and IPC). The control: an environment with a private IPC namespace receives nothing
//! from Fast DDS on the host (what robodev warns of for a ROS 2 profile that asks for it).
//!
//! One image for every case (built once, with the programs compiled in it once); each case
//! has containers of its own. With CI=true a missing compiler or DDS library on the host fails
//! the test (scripts/provision.sh installs them).

use crate::support::*;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// Samples per exchange, and their size: bigger than a UDP datagram (Fast DDS fragments it
/// over UDP), well inside its shared-memory segment (512 KiB).
const COUNT: u32 = 20;
const BYTES: u32 = 128 * 1024;

/// Where the programs are inside an environment (a read-only bind mount).
const INSIDE: &str = "/opt/ros-traffic";

const FAST_DDS: &str = "fastdds_traffic";
const CYCLONE_DDS: &str = "cyclonedds_traffic";

/// The test environments' profile: `name` fixed, so every workspace shares one image (mounts
/// and `ipc` shape only the container).
fn profile(bin: &Path, mounts: &[&str], extra: &str) -> String {
    let mut all = vec![format!("\"{}:{INSIDE}:ro\"", bin.display())];
    all.extend(mounts.iter().map(|m| format!("\"{m}\"")));
    format!(
        "version: 1\nname: ros-traffic\nextends: debian\n\
         apt: [g++, libfastrtps-dev, cyclonedds-dev]\n\
         mounts: [{}]\n{extra}",
        all.join(", ")
    )
}

/// What the host needs to build its side (Debian packages: scripts/provision.sh).
const HOST_NEEDS: &[(&str, &str)] = &[
    ("/usr/bin/g++", "g++"),
    (
        "/usr/include/fastdds/dds/domain/DomainParticipant.hpp",
        "libfastrtps-dev",
    ),
    ("/usr/include/dds/dds.h", "cyclonedds-dev"),
];

struct Fixture {
    /// Programs built on the host, and in the environment's image.
    host_bin: PathBuf,
    env_bin: PathBuf,
}

/// The programs, built once per run: in a throw-away container of the test image (which
/// builds the image), and on the host. `None` (skipped) without an engine or, outside CI,
/// without the host's packages.
fn fixture() -> Option<&'static Fixture> {
    if !engine() {
        return None;
    }
    let missing: Vec<&str> = HOST_NEEDS
        .iter()
        .filter(|(path, _)| !Path::new(path).exists())
        .map(|(_, package)| *package)
        .collect();
    if !missing.is_empty() {
        assert!(
            std::env::var("CI").is_err(),
            "CI=true but the host lacks {}: run scripts/provision.sh",
            missing.join(", ")
        );
        eprintln!("skipped: the host lacks {}", missing.join(", "));
        return None;
    }
    static FIXTURE: OnceLock<Result<Fixture, String>> = OnceLock::new();
    match FIXTURE.get_or_init(make_fixture) {
        Ok(f) => Some(f),
        Err(e) => panic!("{e}"),
    }
}

fn make_fixture() -> Result<Fixture, String> {
    let dir = scratch().join(format!("robodev-ros-traffic-{}", std::process::id()));
    remove_stale_fixtures();
    let _ = std::fs::remove_dir_all(&dir);
    let src = dir.join("src");
    std::fs::create_dir_all(&src).map_err(|e| format!("{}: {e}", src.display()))?;
    std::fs::write(src.join("fastdds_traffic.cpp"), FAST_DDS_SOURCE).unwrap();
    std::fs::write(src.join("cyclonedds_traffic.c"), CYCLONE_DDS_SOURCE).unwrap();
    let env_bin = dir.join("env-bin");
    let host_bin = dir.join("host-bin");
    for d in [&env_bin, &host_bin] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(dir.join("robodev.yaml"), profile(&env_bin, &[], "")).unwrap();
    let build = |out: &str| {
        format!(
            "g++ -O1 -o {out}/{FAST_DDS} src/fastdds_traffic.cpp -lfastrtps -lfastcdr \
             && gcc -O1 -o {out}/{CYCLONE_DDS} src/cyclonedds_traffic.c -lddsc"
        )
    };
    let started = std::time::Instant::now();
    let out = Command::new(bin())
        .args(["run", "--", "sh", "-c", &build("env-bin")])
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .env("ROBODEV_STATE_DIR", dir.join(".state"))
        .env("ROBODEV_CONFIG_DIR", dir.join(".config"))
        .output()
        .map_err(|e| format!("robodev run: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "building the programs in the test image failed:\n{}{}",
            stdout(&out),
            stderr(&out)
        ));
    }
    eprintln!(
        "ros_traffic: image built and programs compiled in it in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let out = Command::new("sh")
        .args(["-c", &build("host-bin")])
        .current_dir(&dir)
        .output()
        .map_err(|e| format!("sh: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "building the programs on the host failed:\n{}",
            stderr(&out)
        ));
    }
    Ok(Fixture { host_bin, env_bin })
}

/// Fixtures of earlier runs whose process is gone.
fn remove_stale_fixtures() {
    let Ok(entries) = std::fs::read_dir(scratch()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix("robodev-ros-traffic-")
            && pid.parse::<u32>().is_ok()
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// One side of an exchange: a process on the host, or in an environment (`robodev exec`).
enum Place<'a> {
    Host,
    Env(&'a str, &'a Ws),
}

impl Place<'_> {
    fn name(&self) -> &str {
        match self {
            Place::Host => "host",
            Place::Env(name, _) => name,
        }
    }

    fn command(&self, f: &Fixture, program: &str, args: &[String]) -> Command {
        match self {
            Place::Host => {
                let mut c = Command::new(f.host_bin.join(program));
                c.args(args);
                c
            }
            Place::Env(_, ws) => {
                let mut c = ws.cmd(&["exec", "--"]);
                c.arg(format!("{INSIDE}/{program}")).args(args);
                c
            }
        }
    }
}

/// A domain and a topic no other exchange of this run (or of a concurrent run) uses.
fn channel() -> (String, String) {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let pid = std::process::id();
    (
        ((pid + n * 7) % 200 + 10).to_string(),
        format!("robodev_traffic_{pid}_{n}"),
    )
}

struct Exchange {
    what: String,
    /// The subscriber's exit and its last line (`matched=… received=R/COUNT corrupt=…`).
    received_all: bool,
    subscriber: String,
    publisher: String,
}

/// The subscriber starts first (it says `ready`), then the publisher sends COUNT samples and
/// waits for their acknowledgement; the subscriber stops when all arrived or at its timeout.
fn exchange(f: &Fixture, program: &str, from: &Place, to: &Place, timeout_s: u32) -> Exchange {
    let what = format!("{program}: {} → {}", from.name(), to.name());
    let (domain, topic) = channel();
    let args = |role: &str, timeout: u32| -> Vec<String> {
        vec![
            role.to_string(),
            domain.clone(),
            topic.clone(),
            COUNT.to_string(),
            BYTES.to_string(),
            timeout.to_string(),
        ]
    };
    let errors = tempfile::NamedTempFile::new().unwrap();
    let mut sub = to
        .command(f, program, &args("sub", timeout_s + 3))
        .stdout(Stdio::piped())
        .stderr(errors.reopen().unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: the subscriber did not start: {e}"));
    let mut lines = BufReader::new(sub.stdout.take().unwrap());
    let mut first = String::new();
    lines.read_line(&mut first).unwrap();
    if first.trim() != "ready" {
        let _ = sub.wait();
        panic!(
            "{what}: the subscriber did not start: {first}{}",
            std::fs::read_to_string(errors.path()).unwrap_or_default()
        );
    }
    let publisher = from
        .command(f, program, &args("pub", timeout_s))
        .output()
        .unwrap_or_else(|e| panic!("{what}: the publisher did not start: {e}"));
    let mut rest = String::new();
    lines.read_to_string(&mut rest).unwrap();
    let status = sub.wait().unwrap();
    let exchange = Exchange {
        received_all: status.success(),
        subscriber: format!(
            "{}{}",
            rest.trim(),
            std::fs::read_to_string(errors.path()).unwrap_or_default()
        ),
        publisher: format!("{}{}", stdout(&publisher).trim(), stderr(&publisher)),
        what,
    };
    eprintln!(
        "{}: subscriber `{}`, publisher `{}`",
        exchange.what,
        exchange.subscriber.lines().last().unwrap_or(""),
        exchange.publisher.replace('\n', " ")
    );
    exchange
}

/// Every sample arrived, intact, and the publisher saw them acknowledged.
fn assert_delivered(e: &Exchange) {
    assert!(
        e.received_all
            && e.subscriber
                .contains(&format!("received={COUNT}/{COUNT} corrupt=0")),
        "{}: not every sample arrived.\nsubscriber: {}\npublisher: {}",
        e.what,
        e.subscriber,
        e.publisher
    );
    assert!(
        e.publisher.contains("matched=1") && e.publisher.contains("acked=yes"),
        "{}: publisher: {}",
        e.what,
        e.publisher
    );
}

/// An environment of the test image in a workspace of its own, up.
fn environment(f: &Fixture, mounts: &[&str], extra: &str) -> (Ws, String) {
    let mut ws = Ws::new(&profile(&f.env_bin, mounts, extra));
    let up = ws.run(&["up", "-d"]);
    assert!(up.status.success(), "up failed: {}", stderr(&up));
    let name = ws.container();
    (ws, name)
}

#[test]
fn ros_2_traffic_crosses_between_the_host_and_environments_by_default() {
    let Some(f) = fixture() else { return };
    let started = std::time::Instant::now();
    let (a, name_a) = environment(f, &[], "");
    let (b, name_b) = environment(f, &[], "");
    for name in [&name_a, &name_b] {
        assert_eq!(
            docker_inspect(name)["HostConfig"]["IpcMode"],
            "host",
            "{name}: the default with network: host"
        );
    }
    let (env_a, env_b) = (
        Place::Env("environment A", &a),
        Place::Env("environment B", &b),
    );
    for program in [FAST_DDS, CYCLONE_DDS] {
        for (from, to) in [
            (&Place::Host, &env_a),
            (&env_a, &Place::Host),
            (&env_a, &env_b),
        ] {
            assert_delivered(&exchange(f, program, from, to, 30));
        }
    }
    eprintln!(
        "ros_traffic: 6 exchanges of {COUNT} × {} KiB in {:.1} s",
        BYTES / 1024,
        started.elapsed().as_secs_f64()
    );
}

/// The failure the default avoids. (robodev warns about it for the ROS 2 distros, whose
/// middleware is Fast DDS; this profile's distro is Debian's ROS 1, which uses Fast DDS only
/// through the library.) And the narrower way out the README gives rootless engines on a
/// machine without /dev/mqueue: a private IPC with the host's /dev/shm mounted.
#[test]
fn a_private_ipc_on_the_hosts_network_gets_nothing_from_fast_dds() {
    let Some(f) = fixture() else { return };
    let (ws, name) = environment(f, &[], "ipc: private\n");
    assert_eq!(docker_inspect(&name)["HostConfig"]["IpcMode"], "private");
    let env = Place::Env("a private-IPC environment", &ws);
    // Fast DDS on the host sends to a peer of this host through shared memory: nothing arrives.
    let e = exchange(f, FAST_DDS, &Place::Host, &env, 5);
    assert!(
        !e.received_all && e.subscriber.contains(&format!("received=0/{COUNT}")),
        "{}: the control received data, so the test does not exercise shared memory.\n\
         subscriber: {}\npublisher: {}",
        e.what,
        e.subscriber,
        e.publisher
    );
    // Cyclone DDS talks UDP: the IPC namespace does not matter to it.
    assert_delivered(&exchange(f, CYCLONE_DDS, &Place::Host, &env, 30));

    let (shm, name) = environment(f, &["/dev/shm:/dev/shm"], "ipc: private\n");
    assert_eq!(docker_inspect(&name)["HostConfig"]["IpcMode"], "private");
    let env = Place::Env("a private-IPC environment with the host's /dev/shm", &shm);
    assert_delivered(&exchange(f, FAST_DDS, &Place::Host, &env, 30));
    assert_delivered(&exchange(f, FAST_DDS, &env, &Place::Host, 30));
}

const FAST_DDS_SOURCE: &str = r##"// robodev's ROS 2 traffic probe on Fast DDS (the DDS API Humble's and Jazzy's rmw_fastrtps use,
// with its default transports: UDPv4 and shared memory). Usage:
//   fastdds_traffic pub|sub DOMAIN TOPIC COUNT BYTES TIMEOUT_S
// `sub` prints `matched=M received=R/COUNT` and exits 0 when every sample arrived intact.
#include <fastdds/dds/domain/DomainParticipant.hpp>
#include <fastdds/dds/domain/DomainParticipantFactory.hpp>
#include <fastdds/dds/publisher/DataWriter.hpp>
#include <fastdds/dds/publisher/Publisher.hpp>
#include <fastdds/dds/subscriber/DataReader.hpp>
#include <fastdds/dds/subscriber/DataReaderListener.hpp>
#include <fastdds/dds/subscriber/SampleInfo.hpp>
#include <fastdds/dds/subscriber/Subscriber.hpp>
#include <fastdds/dds/topic/TopicDataType.hpp>
#include <fastdds/dds/topic/TypeSupport.hpp>
#include <fastcdr/Cdr.h>
#include <fastcdr/FastBuffer.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace eprosima::fastdds::dds;
using eprosima::fastrtps::rtps::SerializedPayload_t;
using eprosima::fastrtps::rtps::InstanceHandle_t;

struct Blob {
    uint32_t seq = 0;
    std::vector<uint8_t> data;
};

static uint8_t pattern(uint32_t seq, size_t i) { return static_cast<uint8_t>((seq * 31 + i) & 0xff); }

class BlobType : public TopicDataType {
public:
    explicit BlobType(uint32_t max_bytes) {
        setName("robodev::Blob");
        m_typeSize = 4 + 4 + 4 + max_bytes + 8;
        m_isGetKeyDefined = false;
    }
    bool serialize(void* data, SerializedPayload_t* payload) override {
        auto* b = static_cast<Blob*>(data);
        eprosima::fastcdr::FastBuffer buffer(reinterpret_cast<char*>(payload->data), payload->max_size);
        eprosima::fastcdr::Cdr cdr(buffer, eprosima::fastcdr::Cdr::DEFAULT_ENDIAN,
                                   eprosima::fastcdr::Cdr::DDS_CDR);
        payload->encapsulation = cdr.endianness() == eprosima::fastcdr::Cdr::BIG_ENDIANNESS ? CDR_BE : CDR_LE;
        try {
            cdr.serialize_encapsulation();
            cdr << b->seq << b->data;
        } catch (...) {
            return false;
        }
        payload->length = static_cast<uint32_t>(cdr.getSerializedDataLength());
        return true;
    }
    bool deserialize(SerializedPayload_t* payload, void* data) override {
        auto* b = static_cast<Blob*>(data);
        eprosima::fastcdr::FastBuffer buffer(reinterpret_cast<char*>(payload->data), payload->length);
        eprosima::fastcdr::Cdr cdr(buffer, eprosima::fastcdr::Cdr::DEFAULT_ENDIAN,
                                   eprosima::fastcdr::Cdr::DDS_CDR);
        try {
            cdr.read_encapsulation();
            payload->encapsulation = cdr.endianness() == eprosima::fastcdr::Cdr::BIG_ENDIANNESS ? CDR_BE : CDR_LE;
            cdr >> b->seq >> b->data;
        } catch (...) {
            return false;
        }
        return true;
    }
    std::function<uint32_t()> getSerializedSizeProvider(void* data) override {
        return [data]() { return static_cast<uint32_t>(4 + 4 + 4 + static_cast<Blob*>(data)->data.size() + 8); };
    }
    void* createData() override { return new Blob(); }
    void deleteData(void* data) override { delete static_cast<Blob*>(data); }
    bool getKey(void*, InstanceHandle_t*, bool) override { return false; }
};

struct Counter : public DataReaderListener {
    std::atomic<int> matched{0};
    std::mutex lock;
    std::set<uint32_t> seen;
    std::atomic<int> corrupt{0};
    size_t bytes = 0;
    void on_subscription_matched(DataReader*, const SubscriptionMatchedStatus& s) override {
        matched = s.total_count;
    }
    void on_data_available(DataReader* reader) override {
        Blob b;
        SampleInfo info;
        while (reader->take_next_sample(&b, &info) == ReturnCode_t::RETCODE_OK) {
            if (!info.valid_data) continue;
            bool ok = b.data.size() == bytes;
            for (size_t i = 0; ok && i < b.data.size(); ++i) ok = b.data[i] == pattern(b.seq, i);
            if (!ok) { ++corrupt; continue; }
            std::lock_guard<std::mutex> g(lock);
            seen.insert(b.seq);
        }
    }
};

int main(int argc, char** argv) {
    if (argc != 7) {
        std::fprintf(stderr, "usage: %s pub|sub DOMAIN TOPIC COUNT BYTES TIMEOUT_S\n", argv[0]);
        return 2;
    }
    const std::string role = argv[1];
    const int domain = std::atoi(argv[2]);
    const std::string topic_name = argv[3];
    const int count = std::atoi(argv[4]);
    const uint32_t bytes = static_cast<uint32_t>(std::atoi(argv[5]));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(std::atoi(argv[6]));

    // As rmw_fastrtps does: the XML profiles (FASTRTPS_DEFAULT_PROFILES_FILE) are the defaults.
    auto* factory = DomainParticipantFactory::get_instance();
    factory->load_profiles();
    DomainParticipantQos pqos = factory->get_default_participant_qos();
    pqos.name("robodev_traffic_" + role);
    auto* participant = factory->create_participant(domain, pqos);
    if (!participant) { std::fprintf(stderr, "no participant\n"); return 2; }
    TypeSupport type(new BlobType(bytes));
    type.register_type(participant);
    Topic* topic = participant->create_topic(topic_name, type.get_type_name(), TOPIC_QOS_DEFAULT);

    int rc = 1;
    if (role == "pub") {
        Publisher* publisher = participant->create_publisher(PUBLISHER_QOS_DEFAULT);
        DataWriterQos wqos = DATAWRITER_QOS_DEFAULT;
        wqos.reliability().kind = RELIABLE_RELIABILITY_QOS;
        wqos.history().kind = KEEP_ALL_HISTORY_QOS;
        wqos.durability().kind = TRANSIENT_LOCAL_DURABILITY_QOS;
        wqos.publish_mode().kind = ASYNCHRONOUS_PUBLISH_MODE;
        DataWriter* writer = publisher->create_datawriter(topic, wqos);
        PublicationMatchedStatus status;
        while (std::chrono::steady_clock::now() < deadline) {
            writer->get_publication_matched_status(status);
            if (status.current_count > 0) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        std::printf("matched=%d\n", status.current_count);
        for (int seq = 0; seq < count; ++seq) {
            Blob b;
            b.seq = static_cast<uint32_t>(seq);
            b.data.resize(bytes);
            for (size_t i = 0; i < bytes; ++i) b.data[i] = pattern(b.seq, i);
            writer->write(&b);
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        auto left = std::chrono::duration_cast<std::chrono::seconds>(deadline - std::chrono::steady_clock::now());
        bool acked = writer->wait_for_acknowledgments(eprosima::fastrtps::Duration_t(
                         static_cast<int32_t>(std::max<long>(1, left.count())), 0)) == ReturnCode_t::RETCODE_OK;
        std::printf("sent=%d acked=%s\n", count, acked ? "yes" : "no");
        std::fflush(stdout);
        rc = status.current_count > 0 && acked ? 0 : 1;
        publisher->delete_datawriter(writer);
        participant->delete_publisher(publisher);
    } else {
        Counter counter;
        counter.bytes = bytes;
        Subscriber* subscriber = participant->create_subscriber(SUBSCRIBER_QOS_DEFAULT);
        DataReaderQos rqos = DATAREADER_QOS_DEFAULT;
        rqos.reliability().kind = RELIABLE_RELIABILITY_QOS;
        rqos.history().kind = KEEP_ALL_HISTORY_QOS;
        rqos.durability().kind = TRANSIENT_LOCAL_DURABILITY_QOS;
        DataReader* reader = subscriber->create_datareader(topic, rqos, &counter);
        std::printf("ready\n");
        std::fflush(stdout);
        size_t received = 0;
        while (std::chrono::steady_clock::now() < deadline) {
            {
                std::lock_guard<std::mutex> g(counter.lock);
                received = counter.seen.size();
            }
            if (received >= static_cast<size_t>(count)) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        std::printf("matched=%d received=%zu/%d corrupt=%d\n", counter.matched.load(), received, count,
                    counter.corrupt.load());
        std::fflush(stdout);
        rc = received >= static_cast<size_t>(count) && counter.corrupt == 0 ? 0 : 1;
        subscriber->delete_datareader(reader);
        participant->delete_subscriber(subscriber);
    }
    participant->delete_topic(topic);
    DomainParticipantFactory::get_instance()->delete_participant(participant);
    return rc;
}
"##;

const CYCLONE_DDS_SOURCE: &str = r##"/* robodev's ROS 2 traffic probe on Cyclone DDS (rmw_cyclonedds_cpp's middleware, with its
 * default configuration). Usage: cyclonedds_traffic pub|sub DOMAIN TOPIC COUNT BYTES TIMEOUT_S
 * `sub` prints `matched=M received=R/COUNT` and exits 0 when every sample arrived intact. */
#include <dds/dds.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Octets {
  uint32_t _maximum;
  uint32_t _length;
  uint8_t *_buffer;
  bool _release;
} Octets;

typedef struct Blob {
  uint32_t seq;
  Octets data;
} Blob;

static const uint32_t blob_ops[] = {
  DDS_OP_ADR | DDS_OP_TYPE_4BY, offsetof(Blob, seq),
  DDS_OP_ADR | DDS_OP_TYPE_SEQ | DDS_OP_SUBTYPE_1BY, offsetof(Blob, data),
  DDS_OP_RTS
};

static const dds_topic_descriptor_t blob_desc = {
  .m_size = sizeof(Blob),
  .m_align = dds_alignof(Blob),
  .m_flagset = 0u,
  .m_nkeys = 0u,
  .m_typename = "robodev::Blob",
  .m_keys = NULL,
  .m_nops = 3,
  .m_ops = blob_ops,
  .m_meta = ""
};

static uint8_t pattern(uint32_t seq, size_t i) { return (uint8_t)((seq * 31u + i) & 0xffu); }

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: %s pub|sub DOMAIN TOPIC COUNT BYTES TIMEOUT_S\n", argv[0]);
    return 2;
  }
  const int pub = strcmp(argv[1], "pub") == 0;
  const int count = atoi(argv[4]);
  const uint32_t bytes = (uint32_t)atoi(argv[5]);
  const dds_time_t deadline = dds_time() + DDS_SECS(atoi(argv[6]));
  dds_entity_t participant = dds_create_participant((dds_domainid_t)atoi(argv[2]), NULL, NULL);
  if (participant < 0) { fprintf(stderr, "no participant: %s\n", dds_strretcode(-participant)); return 2; }
  dds_entity_t topic = dds_create_topic(participant, &blob_desc, argv[3], NULL, NULL);
  if (topic < 0) { fprintf(stderr, "no topic: %s\n", dds_strretcode(-topic)); return 2; }
  dds_qos_t *qos = dds_create_qos();
  dds_qset_reliability(qos, DDS_RELIABILITY_RELIABLE, DDS_SECS(10));
  dds_qset_history(qos, DDS_HISTORY_KEEP_ALL, 0);
  dds_qset_durability(qos, DDS_DURABILITY_TRANSIENT_LOCAL);
  int rc = 1;
  if (pub) {
    dds_entity_t writer = dds_create_writer(participant, topic, qos, NULL);
    dds_publication_matched_status_t status = {0};
    while (dds_time() < deadline) {
      dds_get_publication_matched_status(writer, &status);
      if (status.current_count > 0) break;
      dds_sleepfor(DDS_MSECS(20));
    }
    printf("matched=%u\n", status.current_count);
    Blob b;
    b.data._buffer = malloc(bytes);
    b.data._length = b.data._maximum = bytes;
    b.data._release = false;
    for (int seq = 0; seq < count; seq++) {
      b.seq = (uint32_t)seq;
      for (size_t i = 0; i < bytes; i++) b.data._buffer[i] = pattern(b.seq, i);
      dds_write(writer, &b);
      dds_sleepfor(DDS_MSECS(5));
    }
    const int acked = dds_wait_for_acks(writer, deadline - dds_time()) == DDS_RETCODE_OK;
    printf("sent=%d acked=%s\n", count, acked ? "yes" : "no");
    rc = status.current_count > 0 && acked ? 0 : 1;
    free(b.data._buffer);
  } else {
    dds_entity_t reader = dds_create_reader(participant, topic, qos, NULL);
    printf("ready\n");
    fflush(stdout);
    unsigned char *seen = calloc((size_t)count, 1);
    int received = 0, corrupt = 0;
    dds_subscription_matched_status_t status = {0};
    while (received < count && dds_time() < deadline) {
      void *samples[8] = {NULL};
      dds_sample_info_t infos[8];
      int n = dds_take(reader, samples, infos, 8, 8);
      for (int k = 0; k < n; k++) {
        if (!infos[k].valid_data) continue;
        const Blob *s = samples[k];
        int ok = s->data._length == bytes;
        for (size_t i = 0; ok && i < s->data._length; i++) ok = s->data._buffer[i] == pattern(s->seq, i);
        if (!ok) { corrupt++; continue; }
        if (s->seq < (uint32_t)count && !seen[s->seq]) { seen[s->seq] = 1; received++; }
      }
      if (n > 0) dds_return_loan(reader, samples, n);
      else dds_sleepfor(DDS_MSECS(20));
    }
    dds_get_subscription_matched_status(reader, &status);
    printf("matched=%u received=%d/%d corrupt=%d\n", status.total_count, received, count, corrupt);
    rc = received >= count && corrupt == 0 ? 0 : 1;
    free(seen);
  }
  fflush(stdout);
  dds_delete_qos(qos);
  dds_delete(participant);
  return rc;
}
"##;
