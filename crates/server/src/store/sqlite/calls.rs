//! Call records in SQLite.

use rusqlite::{params, Connection};
use uuid::Uuid;

use super::columns::parse_uuid;
use crate::store::CallRow;

pub(super) fn upsert_call(conn: &Connection, row: &CallRow) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO calls (id, caller, callee, media, started_ms, answered_ms, ended_ms, outcome)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (id) DO UPDATE SET
             media = excluded.media,
             answered_ms = excluded.answered_ms,
             ended_ms = excluded.ended_ms,
             outcome = excluded.outcome",
        params![
            row.id.to_string(),
            row.caller.to_string(),
            row.callee.to_string(),
            row.media,
            row.started_ms,
            row.answered_ms,
            row.ended_ms,
            row.outcome
        ],
    )
    .map(drop)
}

const COLUMNS: &str = "id, caller, callee, media, started_ms, answered_ms, ended_ms, outcome";

fn call_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<CallRow> {
    Ok(CallRow {
        id: parse_uuid(row, 0)?,
        caller: parse_uuid(row, 1)?,
        callee: parse_uuid(row, 2)?,
        media: row.get(3)?,
        started_ms: row.get(4)?,
        answered_ms: row.get(5)?,
        ended_ms: row.get(6)?,
        outcome: row.get(7)?,
    })
}

/// Newest first; with `before`, only calls older than that one (by start,
/// then id, so that calls started in the same millisecond page cleanly).
pub(super) fn calls_of(
    conn: &Connection,
    user: Uuid,
    limit: usize,
    before: Option<(i64, Uuid)>,
) -> rusqlite::Result<Vec<CallRow>> {
    let (before_ms, before_id) = match before {
        Some((ms, id)) => (ms, id.to_string()),
        None => (i64::MAX, String::new()),
    };
    let mut query = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM calls WHERE (caller = ?1 OR callee = ?1)
           AND (started_ms < ?3 OR (started_ms = ?3 AND id < ?4))
         ORDER BY started_ms DESC, id DESC LIMIT ?2"
    ))?;
    let rows = query.query_map(
        params![user.to_string(), limit as i64, before_ms, before_id],
        call_row,
    )?;
    rows.collect()
}

pub(super) fn open_calls(conn: &mut Connection) -> rusqlite::Result<Vec<CallRow>> {
    let mut query = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM calls WHERE ended_ms IS NULL"
    ))?;
    let rows = query.query_map([], call_row)?;
    rows.collect()
}
