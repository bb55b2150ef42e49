//! The UI's TypeScript bindings are generated from the Rust commands and
//! events; this fails when the committed file is stale.
//! Regenerate with `CONVENE_UPDATE_BINDINGS=1 cargo test --test bindings`.

use std::path::Path;

#[test]
fn ui_bindings_match_the_rust_bridge() {
    let generated = convene_app::typescript_bindings().expect("bindings generate");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/bindings.ts");
    if std::env::var_os("CONVENE_UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, &generated).expect("write ui/src/bindings.ts");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "ui/src/bindings.ts is stale: run `CONVENE_UPDATE_BINDINGS=1 cargo test --test bindings` and commit the result"
    );
}
