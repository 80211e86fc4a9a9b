//! The history as a JSON Lines file: one [`Record`] per line, appended as operations end.

use std::io::{BufRead, Write};

use super::Record;

/// Why a history could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The file could not be written or read.
    #[error("cannot read or write the history")]
    Io(#[from] std::io::Error),
    /// A line is not a record.
    #[error("line {line} of the history is not a record")]
    Parse {
        /// 1-based line number.
        line: usize,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
}

/// Appends `record` to `out` as one line.
pub fn write_record(out: &mut impl Write, record: &Record) -> Result<(), HistoryError> {
    serde_json::to_writer(&mut *out, record).map_err(std::io::Error::from)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Reads every record of a history; blank lines are skipped.
pub fn read_history(input: impl BufRead) -> Result<Vec<Record>, HistoryError> {
    let mut records = Vec::new();
    for (index, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let record =
            serde_json::from_str(&line).map_err(|source| HistoryError::Parse { line: index + 1, source })?;
        records.push(record);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Observed, Op, Outcome, SessionRef};

    #[test]
    fn records_survive_a_round_trip_and_a_bad_line_names_its_number() {
        let record = Record {
            id: 7,
            client: 2,
            route: "n1".into(),
            start_us: 10,
            end_us: 25,
            final_read: false,
            op: Op::Patch { session: SessionRef("s1".into()), key: "k".into(), value: 3, if_match: Some(4) },
            outcome: Outcome::Ok(Observed { version: Some(5), ..Observed::default() }),
        };
        let mut text = Vec::new();
        write_record(&mut text, &record).unwrap();
        write_record(&mut text, &record).unwrap();
        assert_eq!(read_history(&text[..]).unwrap(), vec![record.clone(), record]);

        text.extend_from_slice(b"{\"id\": 1}\n");
        match read_history(&text[..]) {
            Err(HistoryError::Parse { line, .. }) => assert_eq!(line, 3),
            other => panic!("expected a parse error on line 3, got {other:?}"),
        }
    }
}
