//! What differs between a stored sample and the same sample re-derived.

use crucible_engine::record::SampleRecord;
use crucible_engine::results::{SampleResult, SampleStatus};
use crucible_engine::transcript::{Message, Role};

use super::{Category, Difference};

/// Whether the whole sample can be re-derived from what was stored: it
/// ran to its verdicts (or to a classifier's failure). A sample that
/// failed at the model or in the scenario stopped part-way; only what it
/// stored can be re-derived.
pub fn replayable_whole(sample: &SampleResult) -> bool {
    match sample.status {
        SampleStatus::Completed => true,
        SampleStatus::Error => sample
            .record
            .error
            .as_ref()
            .is_some_and(|e| e.stage == "classify"),
        SampleStatus::Pending => false,
    }
}

pub fn compare(stored: &SampleResult, derived: &SampleRecord) -> Vec<Difference> {
    let name = format!(
        "sample {} ({}, {}, #{})",
        stored.id, stored.model, stored.condition_id, stored.sample_index
    );
    let mut out = Vec::new();
    let mut differ = |category: Category, detail: String| {
        out.push(Difference {
            category,
            detail: format!("{name}: {detail}"),
        });
    };
    let record = &stored.record;
    let opening = record
        .transcript
        .iter()
        .take_while(|m| m.role != Role::Assistant)
        .count();
    let whole = replayable_whole(stored);
    for (i, message) in record.transcript.iter().enumerate() {
        let category = if i < opening {
            Category::Opening
        } else {
            Category::Episode
        };
        match derived.transcript.get(i) {
            Some(again) if again == message => {}
            Some(again) => differ(
                category,
                format!(
                    "transcript message {} ({}): {}",
                    i + 1,
                    role(message),
                    how_they_differ(message, again)
                ),
            ),
            None => differ(
                category,
                format!(
                    "transcript message {} ({}) was not re-derived: the episode ended before it",
                    i + 1,
                    role(message)
                ),
            ),
        }
    }
    if !whole {
        return out;
    }
    if derived.transcript.len() > record.transcript.len() {
        differ(
            Category::Episode,
            format!(
                "the re-derived episode has {} messages, the stored one {}",
                derived.transcript.len(),
                record.transcript.len()
            ),
        );
    }
    if derived.facts != record.facts {
        let names: Vec<&str> = record
            .facts
            .iter()
            .filter(|f| !derived.facts.contains(f))
            .map(|f| f.name.as_str())
            .collect();
        differ(
            Category::Episode,
            format!("its facts differ ({})", names.join(", ")),
        );
    }
    if derived.end_reason != record.end_reason || derived.turns != record.turns {
        differ(
            Category::Episode,
            format!(
                "it ended `{}` after {} turn(s); re-derived, `{}` after {}",
                record.end_reason.as_deref().unwrap_or(""),
                record.turns,
                derived.end_reason.as_deref().unwrap_or(""),
                derived.turns
            ),
        );
    }
    if derived.stop != record.stop {
        differ(
            Category::Episode,
            format!(
                "its stop is {:?}, re-derived {:?}",
                record.stop, derived.stop
            ),
        );
    }
    let count = record.verdicts.len().max(derived.verdicts.len());
    for position in 0..count {
        match (
            record.verdicts.get(position),
            derived.verdicts.get(position),
        ) {
            (Some(a), Some(b)) if a == b => {}
            (Some(a), Some(b)) => differ(
                Category::Verdict,
                format!(
                    "{}'s verdict reads {}, re-derived {}",
                    a.classifier,
                    outcome(a),
                    outcome(b)
                ),
            ),
            (Some(a), None) => differ(
                Category::Verdict,
                format!("{}'s verdict was not re-derived", a.classifier),
            ),
            (None, Some(b)) => differ(
                Category::Verdict,
                format!(
                    "re-derived a verdict by {} that was not stored",
                    b.classifier
                ),
            ),
            (None, None) => {}
        }
    }
    if derived.error != record.error {
        let show = |e: &Option<crucible_engine::record::SampleError>| {
            e.as_ref().map_or_else(
                || "none".to_owned(),
                |e| format!("[{}] {}", e.stage, e.message),
            )
        };
        differ(
            Category::Verdict,
            format!(
                "its error reads {}, re-derived {}",
                show(&record.error),
                show(&derived.error)
            ),
        );
    }
    out
}

fn role(message: &Message) -> &'static str {
    match message.role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    }
}

fn outcome(verdict: &crucible_engine::record::VerdictRecord) -> String {
    match &verdict.outcome {
        Ok(v) => format!(
            "{} `{}` (score {}, judged {}, {} judge call(s))",
            if v.harmful { "harmful" } else { "not harmful" },
            v.label,
            v.score,
            v.judged,
            verdict.judge.len()
        ),
        Err(e) => format!("error `{}`", shorten(e, 120)),
    }
}

/// Which part of a message differs, and for text, where the two part.
fn how_they_differ(stored: &Message, derived: &Message) -> String {
    if stored.content != derived.content {
        return format!(
            "stored {}, re-derived {}",
            parting(&stored.content, &derived.content),
            parting(&derived.content, &stored.content)
        );
    }
    let part = if stored.tool_calls != derived.tool_calls {
        "tool calls"
    } else if stored.reasoning != derived.reasoning {
        "reasoning"
    } else if stored.tool_call_id != derived.tool_call_id {
        "tool call id"
    } else if stored.role != derived.role {
        "role"
    } else {
        "provider record"
    };
    format!("its {part} differ from the re-derived")
}

/// `text` from a little before where it parts from `other`.
fn parting(text: &str, other: &str) -> String {
    let common = text
        .char_indices()
        .zip(other.chars())
        .find(|((_, a), b)| a != b)
        .map_or_else(|| text.len().min(other.len()), |((i, _), _)| i);
    let start = text[..common]
        .char_indices()
        .rev()
        .nth(20)
        .map_or(0, |(i, _)| i);
    let prefix = if start > 0 { "…" } else { "" };
    format!("`{prefix}{}`", shorten(&text[start..], 60))
}

fn shorten(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out.replace('\n', "⏎")
}
