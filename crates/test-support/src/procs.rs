//! What a process costs, from /proc: CPU time, resident and proportional
//! memory, and its children (the app's WebKit processes).

/// User plus system CPU time of a process, in clock ticks.
pub fn cpu_ticks(pid: u32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // The fields after the command name, which may hold spaces.
    let Some(close) = stat.rfind(')') else {
        return 0;
    };
    let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
    let field = |n: usize| {
        fields
            .get(n)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(11) + field(12)
}

pub fn ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    (unsafe { libc::sysconf(libc::_SC_CLK_TCK) }) as f64
}

/// CPU time of several processes together, in seconds.
pub fn cpu_seconds(pids: &[u32]) -> f64 {
    pids.iter().map(|&p| cpu_ticks(p)).sum::<u64>() as f64 / ticks_per_second()
}

/// CPU time of a process's live threads, in seconds, to the nanosecond
/// (`/proc/<pid>/task/*/schedstat`). Clock ticks are 10 ms, too coarse
/// for a process that uses 2 % of a core; threads that have ended are not
/// counted, which suits a call's steady state.
pub fn thread_cpu_seconds(pid: u32) -> f64 {
    per_thread(pid, "schedstat", |text| {
        text.split_whitespace()
            .next()
            .and_then(|ns| ns.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1e9
    })
}

/// Times a process's live threads have been switched out, waiting or
/// preempted: about how often it woke.
pub fn context_switches(pid: u32) -> u64 {
    per_thread(pid, "status", |text| {
        (field(text, "voluntary_ctxt_switches:") + field(text, "nonvoluntary_ctxt_switches:"))
            as f64
    }) as u64
}

fn per_thread(pid: u32, file: &str, read: impl Fn(&str) -> f64) -> f64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0.0;
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join(file)).ok())
        .map(|text| read(&text))
        .sum()
}

/// Resident memory, KiB.
pub fn rss_kib(pid: u32) -> u64 {
    status_field(&format!("/proc/{pid}/status"), "VmRSS:")
}

/// Proportional set size (shared pages split between their users), KiB.
pub fn pss_kib(pid: u32) -> u64 {
    status_field(&format!("/proc/{pid}/smaps_rollup"), "Pss:")
}

fn status_field(path: &str, name: &str) -> u64 {
    field(&std::fs::read_to_string(path).unwrap_or_default(), name)
}

/// The number after `name` in a `/proc` status-style text (a `kB` unit
/// dropped); 0 when absent.
fn field(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// `pid` and every process below it.
pub fn tree(pid: u32) -> Vec<u32> {
    let mut found = vec![pid];
    let mut next = 0;
    while next < found.len() {
        let parent = found[next];
        next += 1;
        let Ok(entries) = std::fs::read_dir("/proc") else {
            break;
        };
        for entry in entries.flatten() {
            let Some(child) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            let ppid = stat
                .rfind(')')
                .and_then(|close| stat[close + 2..].split(' ').nth(1))
                .and_then(|v| v.parse::<u32>().ok());
            if ppid == Some(parent) && !found.contains(&child) {
                found.push(child);
            }
        }
    }
    found
}
