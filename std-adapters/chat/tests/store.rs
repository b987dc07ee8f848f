//! The local store (kez_chat::store): persistence across reopening, idempotence, partial and
//! outgoing transfers, saved files, cleanup, two handles on one directory, damaged databases.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::fs;
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kez_chat::store::{
    Attachment, DB_FILE, Direction, MessageState, NewMessage, Outgoing, Store, StoreError,
};
use sha2::{Digest as _, Sha256};

const ALICE: [u8; 32] = [0xa1; 32];
const BOB: [u8; 32] = [0xb0; 32];

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn rumor(n: u32) -> [u8; 32] {
    let mut id = [0u8; 32];
    id[..4].copy_from_slice(&n.to_be_bytes());
    id
}

fn text(peer: [u8; 32], direction: Direction, n: u32, at: u64, body: &str) -> NewMessage {
    NewMessage {
        peer,
        direction,
        rumor_id: rumor(n),
        created_at: at,
        text: Some(body.to_owned()),
        attachment: None,
        state: match direction {
            Direction::Out => MessageState::Sending,
            Direction::In => MessageState::Received,
        },
    }
}

fn file_message(peer: [u8; 32], n: u32, file_id: [u8; 16], total: u32) -> NewMessage {
    NewMessage {
        peer,
        direction: Direction::In,
        rumor_id: rumor(n),
        created_at: 1_700_000_100,
        text: None,
        attachment: Some(Attachment {
            filename: "report.pdf".into(),
            mime: "application/pdf".into(),
            size: 5000,
            file_id: Some(file_id),
            sha256: Some([7; 32]),
            received_chunks: 0,
            total_chunks: total,
            path: None,
        }),
        state: MessageState::Pending,
    }
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn reopening_keeps_messages_conversations_and_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, f);
    {
        let store = Store::open(dir.path()).unwrap();
        a = store
            .add_message(&text(ALICE, Direction::In, 1, 100, "hi"))
            .unwrap();
        b = store
            .add_message(&text(ALICE, Direction::Out, 2, 90, "earlier"))
            .unwrap();
        store
            .add_message(&text(BOB, Direction::In, 3, 200, "yo"))
            .unwrap();
        f = store
            .add_message(&file_message(ALICE, 4, [9; 16], 3))
            .unwrap();
        store.set_state(b, &MessageState::Delivered).unwrap();
        store.set_progress(f, 2, 3).unwrap();
        store
            .set_state(f, &MessageState::Failed("hash_mismatch".into()))
            .unwrap();
        store
            .set_attachment_path(f, &dir.path().join("files/report.pdf"))
            .unwrap();
        store.set_cursor(1234).unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let msgs = store.messages(&ALICE).unwrap();
    // Oldest first: by created_at, then by arrival.
    assert_eq!(msgs.iter().map(|m| m.id).collect::<Vec<_>>(), vec![b, a, f]);
    assert_eq!(msgs[0].text.as_deref(), Some("earlier"));
    assert_eq!(msgs[0].state, MessageState::Delivered);
    assert_eq!(msgs[0].direction, Direction::Out);
    assert_eq!(msgs[1].state, MessageState::Received);
    assert_eq!(msgs[1].rumor_id, rumor(1));
    let att = msgs[2].attachment.as_ref().unwrap();
    assert_eq!(att.received_chunks, 2);
    assert_eq!(att.total_chunks, 3);
    assert_eq!(att.file_id, Some([9; 16]));
    assert_eq!(att.sha256, Some([7; 32]));
    assert_eq!(att.mime, "application/pdf");
    assert_eq!(
        att.path.as_deref(),
        Some(dir.path().join("files/report.pdf").as_path())
    );
    assert_eq!(msgs[2].state, MessageState::Failed("hash_mismatch".into()));

    let convs = store.conversations().unwrap();
    assert_eq!(convs.len(), 2);
    assert_eq!(convs[0].peer, ALICE); // newest message at 1_700_000_100
    assert_eq!(convs[0].messages, 3);
    assert_eq!(convs[0].last_at, 1_700_000_100);
    assert_eq!(convs[1].peer, BOB);
    assert_eq!(convs[1].messages, 1);

    assert_eq!(store.cursor().unwrap(), Some(1234));
    assert_eq!(
        store.message_by_rumor(&rumor(3)).unwrap().unwrap().peer,
        BOB
    );
    assert!(store.message_by_rumor(&rumor(99)).unwrap().is_none());
    assert_eq!(
        store
            .message_by_file(&ALICE, &[9; 16], Direction::In)
            .unwrap()
            .unwrap()
            .id,
        f
    );
    assert!(
        store
            .message_by_file(&ALICE, &[9; 16], Direction::Out)
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .message_by_file(&BOB, &[9; 16], Direction::In)
            .unwrap()
            .is_none()
    );
}

#[test]
fn adding_a_message_twice_returns_the_same_id() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let m = text(ALICE, Direction::In, 1, 100, "hello");
    let id = store.add_message(&m).unwrap();
    let mut again = m.clone();
    again.text = Some("changed".into());
    assert_eq!(store.add_message(&again).unwrap(), id);
    let msgs = store.messages(&ALICE).unwrap();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].text.as_deref(), Some("hello"));
    // The same rumor id in the other direction is another message.
    let out = store
        .add_message(&text(ALICE, Direction::Out, 1, 100, "hello"))
        .unwrap();
    assert_ne!(out, id);
    assert_eq!(store.messages(&ALICE).unwrap().len(), 2);
}

#[test]
fn updates_of_unknown_messages_are_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert!(matches!(
        store.set_state(42, &MessageState::Sent),
        Err(StoreError::NotFound(_))
    ));
    let id = store
        .add_message(&text(ALICE, Direction::In, 1, 1, "t"))
        .unwrap();
    // A text message has no attachment to update.
    assert!(matches!(
        store.set_progress(id, 1, 2),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.add_message(&text(ALICE, Direction::In, 2, u64::MAX, "t")),
        Err(StoreError::Invalid(_))
    ));
}

#[test]
fn cursor_only_moves_forward() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.cursor().unwrap(), None);
    store.set_cursor(500).unwrap();
    store.set_cursor(400).unwrap();
    assert_eq!(store.cursor().unwrap(), Some(500));
    store.set_cursor(600).unwrap();
    assert_eq!(store.cursor().unwrap(), Some(600));
}

#[test]
fn partial_chunks_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let fid = [0x11; 16];
    let msg;
    {
        let store = Store::open(dir.path()).unwrap();
        store
            .partial_put_chunk(&ALICE, &fid, 2, 3, b"tail")
            .unwrap();
        store
            .partial_put_chunk(&ALICE, &fid, 0, 3, &[1; 2048])
            .unwrap();
        // A second copy of chunk 0 with other bytes: the first is kept.
        store
            .partial_put_chunk(&ALICE, &fid, 0, 3, &[2; 2048])
            .unwrap();
        // Another sender's chunk with the same file id is another transfer.
        store.partial_put_chunk(&BOB, &fid, 1, 5, b"bob").unwrap();
        msg = store.add_message(&file_message(ALICE, 1, fid, 3)).unwrap();
        store
            .partial_put_pointer(&ALICE, &fid, "{\"type\":\"kez-file-v1\"}", &[0x77; 32], msg)
            .unwrap();
        // A second pointer does not replace the first.
        store
            .partial_put_pointer(&ALICE, &fid, "{\"other\":1}", &[0x78; 32], msg)
            .unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let p = store.partial_load(&ALICE, &fid).unwrap().unwrap();
    assert_eq!(p.n, 3);
    assert_eq!(
        p.pointer_body.as_deref(),
        Some("{\"type\":\"kez-file-v1\"}")
    );
    assert_eq!(p.pointer_rumor, Some([0x77; 32]));
    assert_eq!(p.message_id, Some(msg));
    assert_eq!(p.chunks.len(), 2);
    assert_eq!(
        store.partial_chunk(&ALICE, &fid, 2).unwrap(),
        Some(b"tail".to_vec())
    );
    assert_eq!(store.partial_chunk(&ALICE, &fid, 1).unwrap(), None);
    assert_eq!(p.chunks[0], (0, vec![1; 2048]));
    assert_eq!(p.chunks[1], (2, b"tail".to_vec()));
    assert!(p.updated_at >= now() - 5);

    let bob = store.partial_load(&BOB, &fid).unwrap().unwrap();
    assert_eq!(bob.n, 5);
    assert_eq!(bob.chunks, vec![(1, b"bob".to_vec())]);
    assert_eq!(bob.pointer_body, None);
    assert_eq!(bob.pointer_rumor, None);

    let mut list = store.partial_list().unwrap();
    list.sort();
    assert_eq!(list.len(), 2);
    assert_eq!((list[0].0, list[0].1), (ALICE, fid));
    assert_eq!((list[1].0, list[1].1), (BOB, fid));

    store.partial_remove(&ALICE, &fid).unwrap();
    assert!(store.partial_load(&ALICE, &fid).unwrap().is_none());
    store.partial_remove(&ALICE, &fid).unwrap(); // already gone: fine
    assert_eq!(store.partial_list().unwrap().len(), 1);
}

#[test]
fn a_pointer_first_then_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let fid = [0x22; 16];
    let msg = store.add_message(&file_message(ALICE, 1, fid, 2)).unwrap();
    store
        .partial_put_pointer(&ALICE, &fid, "{}", &[0x77; 32], msg)
        .unwrap();
    let p = store.partial_load(&ALICE, &fid).unwrap().unwrap();
    assert_eq!((p.n, p.chunks.len()), (0, 0));
    store.partial_put_chunk(&ALICE, &fid, 1, 2, b"x").unwrap();
    let p = store.partial_load(&ALICE, &fid).unwrap().unwrap();
    assert_eq!(p.n, 2);
    assert_eq!(p.chunks, vec![(1, b"x".to_vec())]);
    assert!(matches!(
        store.partial_put_pointer(&ALICE, &[0x23; 16], "{}", &[0x77; 32], 999),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn bad_chunks_are_refused_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let fid = [0x33; 16];
    let err = |r: Result<(), StoreError>| r.unwrap_err().kind();
    assert_eq!(
        err(store.partial_put_chunk(&ALICE, &fid, 3, 3, b"x")),
        "invalid"
    );
    assert_eq!(
        err(store.partial_put_chunk(&ALICE, &fid, 0, 0, b"x")),
        "invalid"
    );
    assert_eq!(
        err(store.partial_put_chunk(&ALICE, &fid, 0, 10_241, b"x")),
        "invalid"
    );
    assert_eq!(
        err(store.partial_put_chunk(&ALICE, &fid, 0, 2, b"")),
        "invalid"
    );
    assert_eq!(
        err(store.partial_put_chunk(&ALICE, &fid, 0, 2, &vec![0; 81_921])),
        "invalid"
    );
    assert!(store.partial_load(&ALICE, &fid).unwrap().is_none());

    store.partial_put_chunk(&ALICE, &fid, 0, 2, b"x").unwrap();
    assert_eq!(
        err(store.partial_put_chunk(&ALICE, &fid, 1, 3, b"y")),
        "conflict"
    );
    assert_eq!(
        store
            .partial_load(&ALICE, &fid)
            .unwrap()
            .unwrap()
            .chunks
            .len(),
        1
    );

    // No transfer holds more than MAX_FILE_SIZE bytes of chunks, whatever count it claims.
    let big = [0x44; 16];
    let chunk = vec![5u8; 81_920];
    for i in 0..128 {
        store
            .partial_put_chunk(&ALICE, &big, i, 10_000, &chunk)
            .unwrap();
    }
    assert_eq!(
        err(store.partial_put_chunk(&ALICE, &big, 128, 10_000, &chunk)),
        "invalid"
    );
    let p = store.partial_load(&ALICE, &big).unwrap().unwrap();
    assert_eq!(p.chunks.len(), 128);
    assert!(p.chunks.iter().all(|(i, _)| *i < 128));
}

#[test]
fn partial_cleanup_expires_stale_transfers() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let fid = [0x55; 16];
    let other = [0x56; 16];
    let msg = store.add_message(&file_message(ALICE, 1, fid, 2)).unwrap();
    // A message whose partial has no message id recorded: found by (peer, file id).
    let msg2 = store.add_message(&file_message(BOB, 2, other, 2)).unwrap();
    // A ready message is never turned failed.
    let ready = store
        .add_message(&file_message(ALICE, 3, [0x57; 16], 1))
        .unwrap();
    store.set_state(ready, &MessageState::Ready).unwrap();
    store.partial_put_chunk(&ALICE, &fid, 0, 2, b"a").unwrap();
    store
        .partial_put_pointer(&ALICE, &fid, "{}", &[0x77; 32], msg)
        .unwrap();
    store.partial_put_chunk(&BOB, &other, 0, 2, b"b").unwrap();
    store
        .partial_put_chunk(&ALICE, &[0x57; 16], 0, 1, b"c")
        .unwrap();

    // Nothing is older than an hour ago.
    assert_eq!(store.partial_cleanup(now() - 3600).unwrap(), 0);
    assert_eq!(store.partial_list().unwrap().len(), 3);
    assert_eq!(
        store.message(msg).unwrap().unwrap().state,
        MessageState::Pending
    );

    // Everything is older than a minute from now.
    assert_eq!(store.partial_cleanup(now() + 60).unwrap(), 3);
    assert!(store.partial_list().unwrap().is_empty());
    assert!(store.partial_load(&ALICE, &fid).unwrap().is_none());
    for id in [msg, msg2] {
        assert_eq!(
            store.message(id).unwrap().unwrap().state,
            MessageState::Failed("expired".into())
        );
    }
    assert_eq!(
        store.message(ready).unwrap().unwrap().state,
        MessageState::Ready
    );
}

#[test]
fn save_file_never_overwrites_and_leaves_no_temp_files() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let files = dir.path().join("files");
    let first = store.save_file("a.txt", b"one").unwrap();
    let second = store.save_file("a.txt", b"two").unwrap();
    let third = store.save_file("../../a.txt", b"three").unwrap();
    assert_eq!(first, files.join("a.txt"));
    assert_eq!(second, files.join("a (1).txt"));
    assert_eq!(third, files.join("a (2).txt"));
    assert_eq!(fs::read(&first).unwrap(), b"one");
    assert_eq!(fs::read(&second).unwrap(), b"two");
    assert_eq!(fs::read(&third).unwrap(), b"three");

    // Hostile names land inside files/ under a sanitized name.
    let evil = store.save_file("/etc/passwd", b"x").unwrap();
    assert_eq!(evil, files.join("passwd"));
    let nul = store.save_file("a\0b.exe", b"x").unwrap();
    assert_eq!(nul, files.join("ab.exe"));
    let dots = store.save_file("..", b"x").unwrap();
    assert_eq!(dots, files.join("file"));
    let long = store
        .save_file(&format!("{}.bin", "z".repeat(4000)), b"x")
        .unwrap();
    assert_eq!(long.parent(), Some(files.as_path()));
    let long_name = long.file_name().unwrap().to_str().unwrap();
    assert!(long_name.len() <= 255 && long_name.ends_with(".bin"));
    let long2 = store
        .save_file(&format!("{}.bin", "z".repeat(4000)), b"y")
        .unwrap();
    let long2_name = long2.file_name().unwrap().to_str().unwrap();
    assert!(long2_name.len() <= 255 && long2_name.ends_with(" (1).bin"));

    // An empty file is a file too.
    let empty = store.save_file("empty", b"").unwrap();
    assert_eq!(fs::read(&empty).unwrap(), b"");

    assert_eq!(names(&files), {
        let mut v = vec![
            "a.txt".to_owned(),
            "a (1).txt".into(),
            "a (2).txt".into(),
            "passwd".into(),
            "ab.exe".into(),
            "file".into(),
            long_name.into(),
            long2_name.into(),
            "empty".into(),
        ];
        v.sort();
        v
    });
    assert!(names(&dir.path().join("tmp")).is_empty());
}

#[test]
fn save_file_failure_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    // Make files/ unusable: replace the directory with a plain file.
    let files = dir.path().join("files");
    fs::remove_dir(&files).unwrap();
    fs::write(&files, b"not a directory").unwrap();
    let err = store.save_file("a.txt", b"data").unwrap_err();
    assert_eq!(err.kind(), "io", "{err}");
    assert!(names(&dir.path().join("tmp")).is_empty());
}

fn sha(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn outgoing(store: &Store, file_id: [u8; 16], data: &[u8], chunk: u32) -> Outgoing {
    let msg = store
        .add_message(&NewMessage {
            peer: BOB,
            direction: Direction::Out,
            rumor_id: [file_id[0]; 32],
            created_at: 1,
            text: None,
            attachment: Some(Attachment {
                filename: "data.bin".into(),
                mime: "application/octet-stream".into(),
                size: data.len() as u64,
                file_id: Some(file_id),
                sha256: Some(sha(data)),
                received_chunks: 0,
                total_chunks: 0,
                path: None,
            }),
            state: MessageState::Sending,
        })
        .unwrap();
    Outgoing {
        file_id,
        recipient: BOB,
        message_id: msg,
        filename: "data.bin".into(),
        mime: "application/octet-stream".into(),
        size: data.len() as u64,
        chunk_size: chunk,
        n: u32::try_from(data.len().div_ceil(chunk as usize)).unwrap(),
        sha256: sha(data),
    }
}

#[test]
fn outgoing_copy_and_marks_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let src_dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..5000u32)
        .map(|i| u8::try_from(i % 251).unwrap())
        .collect();
    let src = src_dir.path().join("original.bin");
    fs::write(&src, &data).unwrap();
    let fid = [0x66; 16];
    let t;
    {
        let store = Store::open(dir.path()).unwrap();
        t = outgoing(&store, fid, &data, 2048);
        assert_eq!(t.n, 3);
        store.outgoing_begin(&t, &src).unwrap();
        store.outgoing_mark_sent(&fid, 2).unwrap();
        store.outgoing_mark_sent(&fid, 0).unwrap();
        store.outgoing_mark_sent(&fid, 0).unwrap();
        assert!(matches!(
            store.outgoing_mark_sent(&fid, 3),
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            store.outgoing_mark_sent(&[0; 16], 0),
            Err(StoreError::NotFound(_))
        ));
        // Beginning it again is refused and keeps the marks.
        assert!(matches!(
            store.outgoing_begin(&t, &src),
            Err(StoreError::Conflict(_))
        ));
    }
    // The original goes away; the store's copy stays.
    fs::remove_file(&src).unwrap();
    let store = Store::open(dir.path()).unwrap();
    let pending = store.outgoing_pending().unwrap();
    assert_eq!(pending.len(), 1);
    let st = &pending[0];
    assert_eq!(st.t, t);
    assert_eq!(st.sent, vec![true, false, true]);
    assert!(!st.pointer_sent);
    assert_eq!(st.finished_at, None);
    let copy = store.outgoing_data_path(&fid);
    assert_eq!(copy, dir.path().join("outgoing").join("66".repeat(16)));
    assert_eq!(fs::read(&copy).unwrap(), data);

    store.outgoing_mark_sent(&fid, 1).unwrap();
    store.outgoing_mark_pointer_sent(&fid).unwrap();
    store.outgoing_finish(&fid).unwrap();
    assert!(store.outgoing_pending().unwrap().is_empty());
    // Finished transfers still answer resend requests.
    let st = store.outgoing_get(&fid).unwrap().unwrap();
    assert_eq!(st.sent, vec![true, true, true]);
    assert!(st.pointer_sent);
    assert!(st.finished_at.is_some());
    assert!(copy.exists());
    assert!(store.outgoing_get(&[0; 16]).unwrap().is_none());
    assert!(names(&dir.path().join("tmp")).is_empty());
}

#[test]
fn outgoing_begin_checks_the_file_and_the_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let src = dir.path().join("src.bin");
    let data = vec![3u8; 3000];
    fs::write(&src, &data).unwrap();

    // The file changed after hashing: refused, no copy and no row left.
    let mut t = outgoing(&store, [0x70; 16], &data, 1024);
    t.sha256 = [0; 32];
    assert!(matches!(
        store.outgoing_begin(&t, &src),
        Err(StoreError::SourceMismatch { .. })
    ));
    let mut t = outgoing(&store, [0x71; 16], &data, 1024);
    t.size = 2999;
    t.n = 3;
    assert!(matches!(
        store.outgoing_begin(&t, &src),
        Err(StoreError::SourceMismatch { .. })
    ));
    // Numbers that break §16.3.
    let mut t = outgoing(&store, [0x72; 16], &data, 1024);
    t.n = 4;
    assert_eq!(
        store.outgoing_begin(&t, &src).unwrap_err().kind(),
        "invalid"
    );
    let t = outgoing(&store, [0x73; 16], &data, 512);
    assert_eq!(
        store.outgoing_begin(&t, &src).unwrap_err().kind(),
        "invalid"
    );
    // A message that does not exist.
    let mut t = outgoing(&store, [0x74; 16], &data, 1024);
    t.message_id = 9999;
    assert!(matches!(
        store.outgoing_begin(&t, &src),
        Err(StoreError::NotFound(_))
    ));
    // A missing source.
    let t = outgoing(&store, [0x75; 16], &data, 1024);
    assert_eq!(
        store
            .outgoing_begin(&t, &dir.path().join("nope"))
            .unwrap_err()
            .kind(),
        "io"
    );

    assert!(store.outgoing_pending().unwrap().is_empty());
    assert!(names(&dir.path().join("outgoing")).is_empty());
    assert!(names(&dir.path().join("tmp")).is_empty());
}

#[test]
fn outgoing_cleanup_removes_old_finished_transfers_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let src = dir.path().join("src.bin");
    let data = vec![9u8; 1500];
    fs::write(&src, &data).unwrap();
    let done = outgoing(&store, [0x80; 16], &data, 1024);
    let open = outgoing(&store, [0x81; 16], &data, 1024);
    store.outgoing_begin(&done, &src).unwrap();
    store.outgoing_begin(&open, &src).unwrap();
    store.outgoing_finish(&done.file_id).unwrap();
    // An orphan copy (a crash between copying and recording).
    let orphan = store.outgoing_data_path(&[0x82; 16]);
    fs::write(&orphan, b"left over").unwrap();

    assert_eq!(store.outgoing_cleanup(now() - 3600).unwrap(), 0);
    assert!(store.outgoing_get(&done.file_id).unwrap().is_some());
    assert!(orphan.exists());

    assert_eq!(store.outgoing_cleanup(now() + 60).unwrap(), 1);
    assert!(store.outgoing_get(&done.file_id).unwrap().is_none());
    assert!(!store.outgoing_data_path(&done.file_id).exists());
    assert!(!orphan.exists());
    // The unfinished transfer is kept, with its copy.
    assert_eq!(store.outgoing_pending().unwrap().len(), 1);
    assert!(store.outgoing_data_path(&open.file_id).exists());
}

#[test]
fn two_handles_on_one_directory_write_concurrently() {
    let dir = tempfile::tempdir().unwrap();
    let a = Arc::new(Store::open(dir.path()).unwrap());
    let b = Arc::new(Store::open(dir.path()).unwrap());
    let barrier = Arc::new(Barrier::new(2));
    let per = 100u32;
    let handles: Vec<_> = [(a.clone(), 0u32), (b.clone(), 1u32)]
        .into_iter()
        .map(|(store, which)| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                for k in 0..per {
                    let n = which * 10_000 + k;
                    store
                        .add_message(&text(ALICE, Direction::In, n, u64::from(n), "m"))
                        .unwrap();
                    store
                        .partial_put_chunk(
                            &BOB,
                            &[0x90; 16],
                            n % 50,
                            50,
                            &[u8::try_from(which).unwrap(); 100],
                        )
                        .unwrap();
                    store.set_cursor(u64::from(n)).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(a.messages(&ALICE).unwrap().len(), 2 * per as usize);
    assert_eq!(b.messages(&ALICE).unwrap().len(), 2 * per as usize);
    assert_eq!(a.cursor().unwrap(), Some(10_000 + u64::from(per) - 1));
    let p = b.partial_load(&BOB, &[0x90; 16]).unwrap().unwrap();
    assert_eq!(p.chunks.len(), 50);
}

#[test]
fn a_lock_held_past_the_busy_timeout_is_a_busy_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_with_timeout(dir.path(), Duration::from_millis(200)).unwrap();
    let other = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = Instant::now();
    let err = store
        .add_message(&text(ALICE, Direction::In, 1, 1, "x"))
        .unwrap_err();
    assert!(matches!(err, StoreError::Busy { .. }), "{err:?}");
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert!(started.elapsed() < Duration::from_secs(5));
    // Readers are not blocked by a writer (write-ahead log).
    assert!(store.messages(&ALICE).unwrap().is_empty());
    other.execute_batch("COMMIT").unwrap();
    store
        .add_message(&text(ALICE, Direction::In, 1, 1, "x"))
        .unwrap();
}

#[test]
fn store_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Store>();
}

#[test]
fn a_garbage_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(DB_FILE), vec![0x5a; 8192]).unwrap();
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::NotADatabase { .. }), "{err:?}");
    assert_eq!(err.kind(), "not_a_database");
    assert!(
        err.to_string().contains("is not an SQLite database"),
        "{err}"
    );
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path()).unwrap());
    {
        let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let err = Store::open(dir.path()).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::TooNew {
                found: 99,
                supported: 1
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("upgrade KEZ"), "{err}");
}

#[test]
fn another_programs_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
    }
    let err = Store::open(dir.path()).unwrap_err();
    assert_eq!(err.kind(), "not_a_store", "{err}");
}

#[test]
fn a_damaged_row_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let id = store
        .add_message(&text(ALICE, Direction::In, 1, 5, "x"))
        .unwrap();
    {
        let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
        conn.execute("UPDATE messages SET state = 'weird' WHERE id = ?1", [id])
            .unwrap();
    }
    let err = store.messages(&ALICE).unwrap_err();
    assert_eq!(err.kind(), "corrupt", "{err}");
}
