//! How WebKitGTK draws the window. It composites the page with OpenGL,
//! which pays off on a GPU; without one, that GL is Mesa's software
//! rasteriser and costs far more than WebKit's own non-composited
//! painting: under Xvfb a 720p call drew 5.6 frames a second for 170 % of
//! a core composited, 12.9 for 53 % not (docs/benchmarks.md). So when the
//! machine has no GPU render node, compositing is turned off.

use std::path::Path;

/// WebKitGTK's switch; a value the person set is left alone.
const DISABLE_COMPOSITING: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// What was decided, for the log (which is not up yet when this runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compositing {
    /// A GPU is there (or the person chose): WebKit's default.
    Default,
    /// No GPU: turned off.
    TurnedOff,
}

/// Must run before any other thread starts: it sets an environment
/// variable that WebKit reads when it starts.
pub fn choose_compositing() -> Compositing {
    if !cfg!(target_os = "linux") || std::env::var_os(DISABLE_COMPOSITING).is_some() {
        return Compositing::Default;
    }
    let software = std::env::var_os("LIBGL_ALWAYS_SOFTWARE").is_some_and(|v| v != "0");
    if software || !has_gpu_render_node(Path::new("/dev/dri")) {
        // Edition 2021: safe; the caller runs before other threads.
        std::env::set_var(DISABLE_COMPOSITING, "1");
        return Compositing::TurnedOff;
    }
    Compositing::Default
}

/// Whether `dri` (normally /dev/dri) holds a render node, which every GPU
/// driver with OpenGL offers.
fn has_gpu_render_node(dri: &Path) -> bool {
    std::fs::read_dir(dri).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|entry| entry.file_name().to_string_lossy().starts_with("renderD"))
    })
}

#[cfg(test)]
mod tests {
    use super::has_gpu_render_node;

    #[test]
    fn a_render_node_means_a_gpu() {
        let dri = tempfile::tempdir().unwrap();
        assert!(!has_gpu_render_node(dri.path()), "empty /dev/dri");
        std::fs::write(dri.path().join("card0"), "").unwrap();
        assert!(!has_gpu_render_node(dri.path()), "a display-only card");
        std::fs::write(dri.path().join("renderD128"), "").unwrap();
        assert!(has_gpu_render_node(dri.path()));
        assert!(!has_gpu_render_node(&dri.path().join("missing")));
    }
}
