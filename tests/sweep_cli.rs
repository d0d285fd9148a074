//! `scan` over directories, compressed streams and archives, JSON lines, SARIF, grouping,
//! binary files and unreadable inputs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "../engine/tests/support/rule_cache.rs"]
mod rule_cache;

const TOKEN: &str = "ghp_Qm3kV9ZtR2xW8pLc4NbY7dFh1JsG6a0AbCdE";
const AWS: &str = "AKIAQYLPMN5HHHFPZAM2";

fn tree(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("parapet-sweep-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("logs/old")).unwrap();
    d
}

/// `mcp-parapet scan ARGS` with the test run's rule cache (filled before the first binary
/// starts), this file's state directory and no config.
fn scan_command(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mcp-parapet"));
    c.arg("scan")
        .args(args)
        .env("XDG_CACHE_HOME", rule_cache::xdg_cache_home())
        .env(
            "XDG_STATE_HOME",
            std::env::temp_dir().join("parapet-sweep-state"),
        )
        .env_remove("PARAPET_CONFIG");
    c
}

fn scan(dir: &Path, args: &[&str]) -> Output {
    scan_command(args).current_dir(dir).output().unwrap()
}

fn jsonl(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn directories_compressed_streams_and_archive_members() {
    let d = tree("kinds");
    let line = |s: &str| format!("2026-01-01 INFO start\nconnecting with {s}\n");
    std::fs::write(d.join("logs/app.log"), line(TOKEN)).unwrap();
    // Compressed files named without their usual extension: found by content.
    std::fs::write(d.join("logs/old/app.1"), gz(line(AWS).as_bytes())).unwrap();
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    bz.write_all(line(TOKEN).as_bytes()).unwrap();
    std::fs::write(d.join("logs/old/app.2.bz2"), bz.finish().unwrap()).unwrap();
    let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 1);
    xz.write_all(line(AWS).as_bytes()).unwrap();
    std::fs::write(d.join("logs/old/app.3.xz"), xz.finish().unwrap()).unwrap();
    // A skippable frame, then the text in two frames (`cat a.zst b.zst`): every frame is read.
    let text = line(TOKEN);
    let cut = text.find('\n').unwrap() + 1;
    let mut zst = vec![0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, b'a', b'b', b'c'];
    for part in [&text[..cut], &text[cut..]] {
        zst.extend(ruzstd::encoding::compress_to_vec(
            part.as_bytes(),
            ruzstd::encoding::CompressionLevel::Fastest,
        ));
    }
    std::fs::write(d.join("logs/old/app.4.zst"), zst).unwrap();
    let mut tar = tar::Builder::new(Vec::new());
    let body = line(AWS);
    let mut header = tar::Header::new_gnu();
    header.set_size(body.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, "inner/dir/server.log", body.as_bytes())
        .unwrap();
    std::fs::write(d.join("logs/bundle.tgz"), gz(&tar.into_inner().unwrap())).unwrap();
    std::fs::write(
        d.join("logs/image.bin"),
        b"\x00\x01\x02 ghp_Qm3kV9ZtR2xW8pLc4NbY7dFh1JsG6a0AbCdE",
    )
    .unwrap();

    let out = scan(&d, &["--format", "jsonl", "--jobs", "2", "logs"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let findings = jsonl(&out);
    let mut paths: Vec<String> = findings
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    paths.sort();
    paths.dedup();
    assert_eq!(
        paths,
        [
            "logs/app.log",
            "logs/bundle.tgz!inner/dir/server.log",
            "logs/old/app.1",
            "logs/old/app.2.bz2",
            "logs/old/app.3.xz",
            "logs/old/app.4.zst"
        ]
    );
    assert!(
        findings.iter().all(|f| f["line"] == 2),
        "line numbers inside decompressed data"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("1 binary file skipped"), "{err}");
    // --binary scans it.
    let out = scan(&d, &["--format", "jsonl", "--binary", "logs/image.bin"]);
    assert_eq!(
        jsonl(&out)
            .iter()
            .filter(|f| f["kind"] == "github_token")
            .count(),
        1
    );
}

#[test]
fn an_unreadable_input_is_reported_and_the_rest_scanned() {
    let d = tree("errors");
    std::fs::write(d.join("a.log"), format!("token {TOKEN}\n")).unwrap();
    let out = scan(&d, &["--format", "jsonl", "missing.log", "a.log"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(jsonl(&out).len(), 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.log"));
}

#[test]
fn json_lines_give_pointers_and_line_numbers() {
    let d = tree("jsonl");
    let capture = format!(
        "{}\n{}\nnot json {TOKEN}\n",
        r#"{"method":"tools/call","params":{"arguments":{"q":"hi"}}}"#,
        serde_json::json!({"result": {"content": [{"type": "text", "text": format!("key {AWS}")}]}})
    );
    std::fs::write(d.join("traffic.jsonl"), capture).unwrap();
    let out = scan(&d, &["--format", "jsonl", "--json-lines", "traffic.jsonl"]);
    let f = jsonl(&out);
    assert_eq!(f.len(), 2, "{f:?}");
    assert_eq!(f[0]["line"], 2);
    assert_eq!(f[0]["pointer"], "/result/content/0/text");
    assert_eq!(f[1]["line"], 3);
    // The line that is not JSON is scanned as text, and the input still counts as one not
    // parsed, as with --json.
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains(
        "1 line is not valid JSON, nested deeper than 256 levels or longer than the 67108864-byte cap (the first is line 3)"
    ));
    // A tar member with a line that is not JSON is an error of its own: the archive's other
    // members are still scanned.
    let token_line = format!("{{\"k\":\"{TOKEN}\"}}\n");
    let members = tar_of_files(&[
        ("a.jsonl", b"{\"a\":\"hello\"}\nnot json here\n"),
        ("b.jsonl", token_line.as_bytes()),
    ]);
    std::fs::write(d.join("members.tar"), members).unwrap();
    let out = scan(&d, &["--format", "jsonl", "--json-lines", "members.tar"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(jsonl(&out)[0]["path"], "members.tar!b.jsonl", "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("members.tar!a.jsonl"));
    // The JSON format says which line each finding is on: its offsets are into that line's
    // strings.
    let out = scan(&d, &["--format", "json", "--json-lines", "traffic.jsonl"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lines: Vec<u64> = v["detections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [2, 3], "{v}");
}

#[test]
fn json_past_the_byte_cap_is_scanned_as_text_and_counted() {
    // A line (or a document) over the cap cannot be scanned as one message: it is held only up
    // to the cap and scanned as text in chunks, so a secret past the cap is still found.
    let d = tree("cap");
    let long = format!("{{\"a\":\"{} {AWS} \"}}", "x".repeat(100_000));
    let text = format!("{{\"k\":\"{TOKEN}\"}}\n{long}\n{{\"b\":\"{TOKEN}\"}}\n");
    std::fs::write(d.join("big.jsonl"), &text).unwrap();
    let args = ["--max-bytes", "64K", "--format", "jsonl"];
    let out = scan(&d, &[&args[..], &["--json-lines", "big.jsonl"]].concat());
    let f = jsonl(&out);
    assert_eq!(f.len(), 3, "{out:?}");
    let lines: Vec<&serde_json::Value> = f.iter().map(|x| &x["line"]).collect();
    assert_eq!(lines, [1, 2, 3], "{f:?}");
    assert_eq!(f[1]["rule"], "aws.access_key_id", "{f:?}");
    let at = text.find(AWS).unwrap();
    assert_eq!(
        (&f[1]["start"], &f[1]["end"]),
        (&at.into(), &(at + 20).into())
    );
    assert_eq!(f[2]["pointer"], "/b", "{f:?}");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("longer than the 65536-byte cap (the first is line 2)"),
        "{stderr}"
    );
    // Every byte is counted in the summary (100 KB: "0.1 MB").
    assert!(stderr.contains("1 input, 0.1 MB"), "{stderr}");
    // A line of exactly the cap, and its line ending, is one document within the cap.
    let exact = format!("{{\"a\":\"{AWS} {}\"}}", "x".repeat(65536 - 29));
    assert_eq!(exact.len(), 65536);
    for ending in ["\n", "\r\n"] {
        std::fs::write(d.join("exact.jsonl"), format!("{exact}{ending}")).unwrap();
        let out = scan(&d, &[&args[..], &["--json-lines", "exact.jsonl"]].concat());
        let f = jsonl(&out);
        assert_eq!(f.len(), 1, "{out:?}");
        assert_eq!(f[0]["pointer"], "/a", "{f:?}");
        assert_eq!(out.status.code(), Some(1), "{out:?}");
    }
    // One byte more, and its newline: held whole, but over the cap, so scanned as text.
    std::fs::write(d.join("over.jsonl"), format!("{exact} \n")).unwrap();
    let out = scan(&d, &[&args[..], &["--json-lines", "over.jsonl"]].concat());
    let f = jsonl(&out);
    assert_eq!((f.len(), &f[0]["start"]), (1, &6.into()), "{out:?}");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let out = scan(&d, &[&args[..], &["--json", "big.jsonl"]].concat());
    let f = jsonl(&out);
    assert_eq!(f.len(), 3, "{out:?}");
    assert_eq!(f[1]["start"], at, "{f:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("longer than the 65536-byte cap: scanned as text instead"),
        "{stderr}"
    );
}

#[test]
fn json_nested_past_the_limit_is_still_scanned_as_text() {
    // The proxy refuses such a message; a file's content must not go unscanned.
    let d = tree("deep");
    let depth = parapet_engine::input::MAX_JSON_DEPTH + 1;
    let deep = format!("{}\"{AWS}\"{}", "[".repeat(depth), "]".repeat(depth));
    std::fs::write(
        d.join("deep.jsonl"),
        format!("{{\"k\":\"{TOKEN}\"}}\n{deep}\n"),
    )
    .unwrap();
    std::fs::write(d.join("deep.json"), &deep).unwrap();
    let out = scan(&d, &["--format", "jsonl", "--json-lines", "deep.jsonl"]);
    let f = jsonl(&out);
    assert_eq!(f.len(), 2, "{out:?}");
    assert_eq!(
        (&f[0]["line"], &f[1]["line"]),
        (&1.into(), &2.into()),
        "{f:?}"
    );
    assert_eq!(f[1]["rule"], "aws.access_key_id", "{f:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("nested deeper than 256 levels"));
    let out = scan(&d, &["--format", "jsonl", "--json", "deep.json"]);
    let f = jsonl(&out);
    assert_eq!(f.len(), 1, "{out:?}");
    assert_eq!(f[0]["rule"], "aws.access_key_id", "{f:?}");
}

#[test]
fn sarif_groups_one_secret_in_many_places() {
    let d = tree("sarif");
    for n in 0..3 {
        std::fs::write(
            d.join(format!("logs/s{n}.log")),
            format!("x\nuse {TOKEN}\n"),
        )
        .unwrap();
    }
    let out = scan(&d, &["--format", "sarif", "-q", "logs"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stderr.is_empty(), "--quiet: no summary");
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "mcp-parapet");
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "one finding");
    let r = &results[0];
    assert_eq!(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "logs/s0.log"
    );
    assert_eq!(
        r["locations"][0]["physicalLocation"]["region"]["startLine"],
        2
    );
    assert_eq!(r["relatedLocations"].as_array().unwrap().len(), 2);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains(TOKEN),
        "never the value"
    );
    let rule_ids: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(rule_ids.contains(&r["ruleId"].as_str().unwrap()));
    // Text groups the same way.
    let out = scan(&d, &["-q", "logs"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("same value in 2 more places"), "{text}");
    assert!(
        !text.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
    let coloured = scan(&d, &["-q", "--color", "always", "logs"]);
    assert!(String::from_utf8_lossy(&coloured.stdout).contains("\x1b[36m"));
}

#[test]
fn redact_to_writes_sanitized_copies_compressed_the_same_way() {
    let d = tree("redact");
    let dirty = format!("user alice@example.com\nkey {AWS}\ntoken {TOKEN}\n");
    std::fs::write(d.join("logs/app.log"), &dirty).unwrap();
    std::fs::write(d.join("logs/clean.log"), "nothing here\n").unwrap();
    std::fs::write(d.join("logs/old/app.1.gz"), gz(dirty.as_bytes())).unwrap();
    // Skipped by the report as binary: its copy is still redacted, never copied as it is.
    std::fs::write(d.join("logs/core.bin"), format!("\0\0\ntoken {TOKEN}\n")).unwrap();
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(dirty.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, "m/server.log", dirty.as_bytes())
        .unwrap();
    std::fs::write(d.join("logs/bundle.tar"), tar.into_inner().unwrap()).unwrap();
    // A compressed member, and a member whose path is too long for a plain tar header.
    let long = format!("{}/{}/secret.log", "d".repeat(60), "e".repeat(60));
    let mut tar = tar::Builder::new(Vec::new());
    for (name, body) in [
        ("m/app.log.gz", gz(dirty.as_bytes())),
        (long.as_str(), dirty.clone().into_bytes()),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        tar.append_data(&mut header, name, &body[..]).unwrap();
    }
    std::fs::write(d.join("logs/nested.tar"), tar.into_inner().unwrap()).unwrap();

    let out = scan(
        &d,
        &[
            "-q",
            "--redact-to",
            "clean",
            "--redact-categories",
            "secret",
            "logs",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plain = std::fs::read_to_string(d.join("clean/logs/app.log")).unwrap();
    assert!(!plain.contains(AWS) && !plain.contains(TOKEN), "{plain}");
    assert!(
        plain.contains("[REDACTED:") && plain.contains("alice@example.com"),
        "pii kept: {plain}"
    );
    assert_eq!(
        std::fs::read_to_string(d.join("clean/logs/clean.log")).unwrap(),
        "nothing here\n"
    );
    let gzipped = std::fs::read(d.join("clean/logs/old/app.1.gz")).unwrap();
    assert_eq!(&gzipped[..2], &[0x1f, 0x8b], "still gzip");
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gzipped[..]), &mut text)
        .unwrap();
    assert_eq!(text, plain);
    let mut archive =
        tar::Archive::new(std::fs::File::open(d.join("clean/logs/bundle.tar")).unwrap());
    let mut member = archive.entries().unwrap().next().unwrap().unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut member, &mut text).unwrap();
    assert_eq!(text, plain);
    let mut archive =
        tar::Archive::new(std::fs::File::open(d.join("clean/logs/nested.tar")).unwrap());
    let mut names = Vec::new();
    for member in archive.entries().unwrap() {
        let mut member = member.unwrap();
        names.push(member.path().unwrap().display().to_string());
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut member, &mut bytes).unwrap();
        let mut text = String::new();
        if bytes.starts_with(&[0x1f, 0x8b]) {
            std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut text)
                .unwrap();
        } else {
            text = String::from_utf8(bytes).unwrap();
        }
        assert_eq!(text, plain, "member {}", names.last().unwrap());
    }
    assert_eq!(names, ["m/app.log.gz", long.as_str()]);
    let binary = std::fs::read(d.join("clean/logs/core.bin")).unwrap();
    assert_eq!(binary, b"\0\0\ntoken [REDACTED:github_token]\n");
    // No partial file is left beside the copies.
    let names: Vec<_> = std::fs::read_dir(d.join("clean/logs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.iter().all(|n| !n.contains("partial")), "{names:?}");
    // The sanitized tree scans clean of secrets.
    let again = scan(&d, &["--format", "jsonl", "--binary", "clean"]);
    assert!(jsonl(&again).iter().all(|f| f["category"] != "secret"));
}

#[test]
fn gitignore_is_honoured_only_when_asked() {
    let d = tree("gitignore");
    std::fs::write(d.join("logs/.gitignore"), "ignored.log\n").unwrap();
    std::fs::write(d.join("logs/ignored.log"), format!("token {TOKEN}\n")).unwrap();
    std::fs::write(d.join("logs/kept.log"), format!("token {TOKEN}\n")).unwrap();
    let paths = |out: &Output| {
        let mut p: Vec<String> = jsonl(out)
            .iter()
            .map(|f| f["path"].as_str().unwrap().to_string())
            .collect();
        p.sort();
        p
    };
    assert_eq!(
        paths(&scan(&d, &["--format", "jsonl", "logs"])),
        ["logs/ignored.log", "logs/kept.log"]
    );
    assert_eq!(
        paths(&scan(&d, &["--format", "jsonl", "--gitignore", "logs"])),
        ["logs/kept.log"]
    );
}

#[cfg(unix)]
#[test]
fn pipes_and_fifos_are_read_as_streams() {
    use std::process::Stdio;
    let d = tree("fifo");
    // A path that is a pipe (`/dev/stdin` here, `<(cmd)` in a shell): read once, not reopened.
    let mut child = scan_command(&["--format", "jsonl", "/dev/stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("token {TOKEN}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(jsonl(&out)[0]["column"], 7);
    // A FIFO: opening it twice waited forever for a second writer.
    let fifo = d.join("ff");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            std::fs::write(fifo, format!("x\ntoken {TOKEN}\n")).unwrap();
        })
    };
    let out = scan(&d, &["--format", "jsonl", "ff"]);
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(jsonl(&out)[0]["line"], 2);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn what_a_cut_short_stream_held_is_still_reported() {
    let d = tree("truncated");
    // A gzip stream cut off: the token on its first line is found, and the input is an error.
    let mut text = format!("token {TOKEN}\n");
    while text.len() < 300_000 {
        text.push_str(&format!(
            "line {} of filler text that compresses\n",
            text.len()
        ));
    }
    let whole = gz(text.as_bytes());
    std::fs::write(d.join("cut.log.gz"), &whole[..whole.len() - 1000]).unwrap();
    let out = scan(&d, &["--format", "jsonl", "cut.log.gz"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let found = jsonl(&out);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["line"], 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("cut.log.gz"));
    // A short member followed by padding (what `gzip -d` reads, warning of trailing garbage),
    // and one whose checksum fails: what decoded is reported, and the input is an error.
    let mut padded = gz(format!("token {TOKEN}\n").as_bytes());
    padded.extend([0u8; 512]);
    std::fs::write(d.join("padded.gz"), &padded).unwrap();
    let mut bad_crc = gz(format!("token {TOKEN}\n").as_bytes());
    let at = bad_crc.len() - 6;
    bad_crc[at] ^= 0xff;
    std::fs::write(d.join("crc.gz"), &bad_crc).unwrap();
    for name in ["padded.gz", "crc.gz"] {
        let out = scan(&d, &["--format", "jsonl", name]);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert_eq!(jsonl(&out).len(), 1, "{name}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("corrupt"),
            "{out:?}"
        );
    }
    // The same in the JSON modes: the document before the padding is scanned.
    let mut padded = gz(format!("{{\"k\":\"{TOKEN}\"}}\n").as_bytes());
    padded.extend([0u8; 512]);
    std::fs::write(d.join("padded.jsonl.gz"), &padded).unwrap();
    for mode in ["--json", "--json-lines"] {
        let out = scan(&d, &["--format", "jsonl", mode, "padded.jsonl.gz"]);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert_eq!(jsonl(&out).len(), 1, "{mode}: {out:?}");
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// `text` as UTF-16 with its byte-order mark, little- or big-endian.
fn utf16(text: &str, little: bool) -> Vec<u8> {
    let mut out = if little {
        vec![0xFF, 0xFE]
    } else {
        vec![0xFE, 0xFF]
    };
    for u in text.encode_utf16() {
        out.extend(if little {
            u.to_le_bytes()
        } else {
            u.to_be_bytes()
        });
    }
    out
}

#[test]
fn utf16_text_is_transcoded_scanned_and_redacted_back_as_utf16() {
    let d = tree("utf16");
    let text = format!("PS C:\\> Get-Content creds.txt\r\nkey {AWS}\r\ntoken {TOKEN} café\r\n");
    std::fs::write(d.join("logs/transcript.txt"), utf16(&text, true)).unwrap();
    std::fs::write(d.join("logs/export.reg"), utf16(&text, false)).unwrap();
    std::fs::write(d.join("logs/old/transcript.1"), gz(&utf16(&text, true))).unwrap();
    let mut tar = tar::Builder::new(Vec::new());
    let body = utf16(&text, true);
    let mut header = tar::Header::new_gnu();
    header.set_size(body.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, "m/transcript.txt", &body[..])
        .unwrap();
    std::fs::write(d.join("logs/bundle.tar"), tar.into_inner().unwrap()).unwrap();

    let out = scan(&d, &["--format", "jsonl", "logs"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("binary"), "UTF-16 text is not binary: {err}");
    let findings = jsonl(&out);
    for path in [
        "logs/transcript.txt",
        "logs/export.reg",
        "logs/old/transcript.1",
        "logs/bundle.tar!m/transcript.txt",
    ] {
        let mine: Vec<_> = findings.iter().filter(|f| f["path"] == path).collect();
        let kinds: Vec<_> = mine.iter().map(|f| f["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["aws_access_key_id", "github_token"], "{path}");
        // Lines, columns and offsets are those of the text transcoded to UTF-8.
        let token = &mine[1];
        assert_eq!(
            (token["line"].as_u64(), token["column"].as_u64()),
            (Some(3), Some(7))
        );
        let start = token["start"].as_u64().unwrap() as usize;
        assert_eq!(&text[start..start + TOKEN.len()], TOKEN, "{path}");
    }

    // CJK characters whose bytes read as ASCII digits (`㔴㤳…` is `45 39 …`): read as UTF-16,
    // there is no card number here, and the copy is left as it is.
    let cjk = utf16("x 㔴㤳㐱㠸㌰㌴㐶㜶 y\n", true);
    assert!(cjk.windows(16).any(|w| w == b"4539148803436467"));
    std::fs::write(d.join("cjk.txt"), &cjk).unwrap();
    let out = scan(&d, &["--format", "jsonl", "cjk.txt"]);
    assert_eq!(out.status.code(), Some(0), "{:?}", jsonl(&out));
    let out = scan(&d, &["-q", "--redact-to", "clean", "cjk.txt"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(std::fs::read(d.join("clean/cjk.txt")).unwrap(), cjk);
    // A redacted copy keeps an odd last byte as it was.
    let mut odd = utf16(&format!("key {AWS}\n"), true);
    odd.push(b'!');
    std::fs::write(d.join("odd-end.txt"), &odd).unwrap();
    scan(&d, &["-q", "--redact-to", "clean", "odd-end.txt"]);
    let mut want = utf16("key [REDACTED:aws_access_key_id]\n", true);
    want.push(b'!');
    assert_eq!(std::fs::read(d.join("clean/odd-end.txt")).unwrap(), want);
    // Malformed UTF-16 with nothing to redact is copied as it is.
    std::fs::write(d.join("odd.txt"), [0xFF, 0xFE, b'a', 0, 0x00, 0xD8, b'b']).unwrap();
    let out = scan(&d, &["-q", "--redact-to", "clean", "odd.txt"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read(d.join("clean/odd.txt")).unwrap(),
        [0xFF, 0xFE, b'a', 0, 0x00, 0xD8, b'b']
    );

    // JSON lines stored as UTF-16.
    let line = format!("{{\"params\":{{\"arguments\":{{\"t\":\"{TOKEN}\"}}}}}}\n");
    std::fs::write(d.join("traffic.jsonl"), utf16(&line, true)).unwrap();
    let out = scan(&d, &["--format", "jsonl", "--json-lines", "traffic.jsonl"]);
    let found = jsonl(&out);
    assert_eq!(found.len(), 1, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(found[0]["pointer"], "/params/arguments/t");

    // The sanitized copy is UTF-16 again, in the input's byte order, without the secrets.
    let out = scan(&d, &["-q", "--redact-to", "clean", "logs"]);
    assert_eq!(out.status.code(), Some(1));
    for (path, little) in [
        ("clean/logs/transcript.txt", true),
        ("clean/logs/export.reg", false),
    ] {
        let copy = std::fs::read(d.join(path)).unwrap();
        let want = text
            .replace(AWS, "[REDACTED:aws_access_key_id]")
            .replace(TOKEN, "[REDACTED:github_token]");
        assert_eq!(copy, utf16(&want, little), "{path}");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
#[cfg(unix)]
fn redact_to_keeps_permissions_and_never_lets_two_inputs_share_a_copy() {
    use std::os::unix::fs::PermissionsExt;
    let d = tree("redact-modes");
    std::fs::create_dir_all(d.join("private")).unwrap();
    std::fs::write(d.join("private/s.log"), format!("key {AWS}\n")).unwrap();
    std::fs::set_permissions(
        d.join("private/s.log"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    std::fs::set_permissions(d.join("private"), std::fs::Permissions::from_mode(0o700)).unwrap();
    let out = scan(&d, &["-q", "--redact-to", "clean", "private"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let mode = |p: &str| std::fs::metadata(d.join(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("clean/private/s.log"), 0o600);
    assert_eq!(mode("clean/private"), 0o700);
    // A read-only directory's copy keeps the owner's write access (the run writes into it).
    std::fs::create_dir_all(d.join("ro")).unwrap();
    std::fs::write(d.join("ro/s.log"), format!("key {AWS}\n")).unwrap();
    std::fs::set_permissions(d.join("ro"), std::fs::Permissions::from_mode(0o555)).unwrap();
    let out = scan(&d, &["-q", "--redact-to", "clean", "ro"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(mode("clean/ro"), 0o755);

    // `../x/a.log` and `x/a.log` both mirror to `clean/x/a.log`: the second is an error,
    // never a silent overwrite of the first's copy.
    let w = d.join("w");
    std::fs::create_dir_all(w.join("x")).unwrap();
    std::fs::create_dir_all(d.join("x")).unwrap();
    std::fs::write(d.join("x/a.log"), format!("outer {AWS}\n")).unwrap();
    std::fs::write(w.join("x/a.log"), format!("inner {AWS}\n")).unwrap();
    let out = scan(&w, &["-q", "--redact-to", "clean", "../x/a.log", "x/a.log"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("already written for ../x/a.log"));
    let copy = std::fs::read_to_string(w.join("clean/x/a.log")).unwrap();
    assert!(copy.starts_with("outer [REDACTED:"), "{copy}");
    // The same file twice is one copy, and no error.
    let out = scan(&w, &["-q", "--redact-to", "again", "x/a.log", "./x/a.log"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}

#[test]
#[cfg(unix)]
fn names_cannot_write_control_sequences_to_the_terminal() {
    // A file (or archive member) name is whoever wrote it's: in text output and on stderr an
    // escape sequence or a newline in it is shown escaped, never acted on.
    let d = tree("names");
    std::fs::write(d.join("logs/a\x1b[31mb\nc.log"), format!("key {AWS}\n")).unwrap();
    let out = scan(&d, &["-q", "--color", "never", "logs"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("a\\x1b[31mb\\x0ac.log:1:5:"), "{text}");
    assert!(!text.contains('\x1b'));
    // JSON keeps the real name (escaped by JSON itself).
    let out = scan(&d, &["-q", "--format", "jsonl", "logs"]);
    assert!(jsonl(&out)[0]["path"]
        .as_str()
        .unwrap()
        .ends_with("a\x1b[31mb\nc.log"));
}

/// A tar archive holding one file, `name`, with `body`.
fn tar_of(name: &str, body: &[u8]) -> Vec<u8> {
    tar_of_files(&[(name, body)])
}

/// A tar archive holding these files (name, body), in this order.
fn tar_of_files(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for &(name, body) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        tar.append_data(&mut header, name, body).unwrap();
    }
    tar.into_inner().unwrap()
}

#[test]
fn archives_inside_archives_are_opened_and_rebuilt() {
    let d = tree("nested-archives");
    let dirty = format!("key {AWS}\n");
    // A gzipped tar inside a tar: `outer.tar!inner.tgz!app.log`.
    let inner = gz(&tar_of("app.log", dirty.as_bytes()));
    std::fs::write(d.join("logs/outer.tar"), tar_of("inner.tgz", &inner)).unwrap();
    let out = scan(&d, &["--format", "jsonl", "logs/outer.tar"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let found = jsonl(&out);
    assert_eq!(
        found[0]["path"], "logs/outer.tar!inner.tgz!app.log",
        "{found:?}"
    );
    // The copy is rebuilt at every level, the secret gone and each archive still readable.
    let out = scan(&d, &["-q", "--redact-to", "clean", "logs/outer.tar"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let mut outer = tar::Archive::new(std::fs::File::open(d.join("clean/logs/outer.tar")).unwrap());
    let mut member = outer.entries().unwrap().next().unwrap().unwrap();
    let mut tgz = Vec::new();
    std::io::Read::read_to_end(&mut member, &mut tgz).unwrap();
    let mut inner = tar::Archive::new(flate2::read::GzDecoder::new(&tgz[..]));
    let mut log = inner.entries().unwrap().next().unwrap().unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut log, &mut text).unwrap();
    assert_eq!(text, "key [REDACTED:aws_access_key_id]\n");
}

#[test]
fn redact_to_streams_a_file_chunk_by_chunk_with_the_same_result() {
    // With a 4 KiB cap a file is redacted in 2 KiB chunks: secrets placed at every offset
    // around the chunk edges come out as with one chunk, and nothing else changes.
    let d = tree("redact-stream");
    let mut text = String::new();
    let mut k = 0;
    while text.len() < 60_000 {
        text.push_str(&"x".repeat(k % 37));
        text.push_str(&format!(" {AWS} and {TOKEN} user{k}@example.com\n"));
        k += 1;
    }
    std::fs::write(d.join("logs/app.log"), &text).unwrap();
    let out = scan(&d, &["-q", "--redact-to", "whole", "logs/app.log"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let out = scan(
        &d,
        &[
            "-q",
            "--max-bytes",
            "4K",
            "--redact-to",
            "chunked",
            "logs/app.log",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let whole = std::fs::read_to_string(d.join("whole/logs/app.log")).unwrap();
    let chunked = std::fs::read_to_string(d.join("chunked/logs/app.log")).unwrap();
    assert!(!whole.contains(AWS) && !whole.contains(TOKEN) && !whole.contains("@example"));
    assert_eq!(chunked, whole);
    assert_eq!(whole.lines().count(), text.lines().count());
}

#[test]
fn inputs_given_twice_are_scanned_once_and_the_copies_never_rescanned() {
    let d = tree("twice");
    std::fs::write(d.join("logs/app.log"), format!("key {AWS}\n")).unwrap();
    // The same file twice, and a file inside a directory also given: one report each.
    let out = scan(
        &d,
        &[
            "--format",
            "jsonl",
            "logs/app.log",
            "./logs/app.log",
            "logs",
        ],
    );
    assert_eq!(jsonl(&out).len(), 1, "{out:?}");
    // A copy tree inside the scanned tree is not an input on the next run.
    for _ in 0..2 {
        let out = scan(&d, &["-q", "--redact-to", "logs/clean", "logs"]);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
    }
    assert!(!d.join("logs/clean/logs/clean").exists());
    // With --gitignore, a file the directory's walk skips is still scanned when named.
    std::fs::write(d.join("logs/.gitignore"), "ignored.log\n").unwrap();
    std::fs::write(d.join("logs/ignored.log"), format!("key {AWS}\n")).unwrap();
    let out = scan(
        &d,
        &[
            "--gitignore",
            "--format",
            "jsonl",
            "logs",
            "logs/ignored.log",
        ],
    );
    assert!(
        jsonl(&out).iter().any(|f| f["path"] == "logs/ignored.log"),
        "{out:?}"
    );
    // A zip is not opened: an error (the scan was not complete), not a clean verdict, and
    // --redact-to writes no copy of it (its bytes kept would keep what it holds).
    std::fs::write(
        d.join("logs/bundle.zip"),
        b"PK\x03\x04\x14\0\0\0rest of a zip",
    )
    .unwrap();
    let out = scan(&d, &["logs/bundle.zip"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("a zip archive, not opened"));
    let out = scan(&d, &["-q", "--redact-to", "zipped", "logs/bundle.zip"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(!d.join("zipped/logs/bundle.zip").exists());
    // Met while walking a directory (a .jar, an .odt), a zip is counted like a binary file.
    let out = scan(&d, &["logs"]);
    assert_ne!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 zip archive not opened"));
}

#[test]
fn archives_nested_too_deep_and_streams_are_errors_not_silent() {
    let d = tree("too-deep");
    // Five tars deep: the fifth is not opened, and says so (exit 2), in the report and in
    // --redact-to alike.
    let mut data = format!("key {AWS}\n").into_bytes();
    for i in 0..5 {
        data = tar_of(&format!("level{i}"), &data);
    }
    std::fs::write(d.join("logs/deep.tar"), &data).unwrap();
    let out = scan(&d, &["logs/deep.tar"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("nested more than 4 deep"));
    let out = scan(&d, &["-q", "--redact-to", "clean", "logs/deep.tar"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(!d.join("clean/logs/deep.tar").exists());
    // A byte cap too small to hold a token and its key is refused.
    let out = scan(&d, &["--max-bytes", "48", "logs"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("too small"));
    // A FIFO is scanned as a stream, but --redact-to refuses it (its copy would be empty, or
    // wait forever for a second writer) instead of hanging.
    #[cfg(unix)]
    {
        let fifo = d.join("logs/pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let writer = {
                let fifo = fifo.clone();
                std::thread::spawn(move || std::fs::write(fifo, format!("key {AWS}\n")))
            };
            let out = scan(&d, &["-q", "--redact-to", "clean", "logs/pipe"]);
            writer.join().unwrap().unwrap();
            assert_eq!(out.status.code(), Some(2), "{out:?}");
            assert!(String::from_utf8_lossy(&out.stderr).contains("regular files only"));
        }
    }
}

#[test]
fn show_secrets_shows_values_found_inside_json_strings() {
    let d = tree("show-json");
    // The key's first letter escaped: the value shown is the decoded one.
    std::fs::write(
        d.join("traffic.jsonl"),
        "{\"k\":\"id \\u0041KIAQYLPMN5HHHFPZAM2 x\"}\n",
    )
    .unwrap();
    std::fs::write(d.join("doc.json"), format!("{{\"k\":[\"{AWS}\"]}}")).unwrap();
    for (mode, file) in [("--json-lines", "traffic.jsonl"), ("--json", "doc.json")] {
        let shown = scan(&d, &["--format", "jsonl", "--show-secrets", mode, file]);
        let found = jsonl(&shown);
        assert_eq!(found.len(), 1, "{mode}: {shown:?}");
        assert_eq!(found[0]["match"], AWS, "{mode}: {shown:?}");
        // Without --show-secrets: no value in jsonl, a masked one in text.
        let hidden = scan(&d, &["--format", "jsonl", mode, file]);
        assert!(jsonl(&hidden)[0].get("match").is_none(), "{hidden:?}");
        let text = scan(&d, &["--format", "text", mode, file]);
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(
            text.contains("AKIA…(20 bytes)") && !text.contains(AWS),
            "{text}"
        );
    }
    let _ = std::fs::remove_dir_all(&d);
}
