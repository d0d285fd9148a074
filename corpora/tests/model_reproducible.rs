//! The classifier weights shipped in `engine/model/injection.bin` are exactly what the training
//! command makes from the shared corpora and our own cases (`corpora/cases`). Needs
//! `../shared/corpora/labelled` (present in CI); skipped with a note where it is absent.

use std::path::Path;
use std::process::Command;

#[test]
fn shipped_model_is_what_parapet_train_makes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = root.join("../shared/corpora/labelled");
    if !dir.is_dir() {
        eprintln!(
            "SKIPPED: {} not found (a fresh clone has no ../shared)",
            dir.display()
        );
        return;
    }
    let out = std::env::temp_dir().join(format!("parapet-model-{}.bin", std::process::id()));
    let status = Command::new(env!("CARGO_BIN_EXE_parapet-train"))
        .arg("--out")
        .arg(&out)
        .arg(&dir)
        .arg(root.join("corpora/cases"))
        .status()
        .expect("run parapet-train");
    assert!(status.success());
    let made = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    let shipped = std::fs::read(root.join("engine/model/injection.bin")).unwrap();
    assert!(
        made == shipped,
        "engine/model/injection.bin differs from a fresh training run: run \
         `cargo run --release -p parapet-corpora --bin parapet-train` and commit the model"
    );
}
