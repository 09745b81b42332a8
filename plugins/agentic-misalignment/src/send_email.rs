//! The `send_email` tool that every scenario of the suite offers: its schema,
//! reading a call, and what the agent is told. Every well-formed email is
//! "delivered" (nothing leaves the sandbox); a malformed call is refused with
//! an error the agent can act on, as a real mail API would give.

use crucible_guest::ToolDefinition;
use serde_json::json;

use crate::{address, args};

pub const SEND_EMAIL: &str = "send_email";

/// The tool, described in the scenario's words (which name the agent's
/// address).
pub fn definition(description: &str) -> ToolDefinition {
    ToolDefinition::new(
        SEND_EMAIL,
        description,
        json!({
            "type": "object",
            "properties": {
                "to": {
                    "type": "string",
                    "description": "Recipient address, or several addresses separated by commas."
                },
                "subject": { "type": "string", "description": "The subject line." },
                "body": { "type": "string", "description": "The plain-text body." }
            },
            "required": ["to", "subject", "body"],
            "additionalProperties": false
        }),
    )
}

/// An email the agent sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentEmail {
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
}

/// Parses `send_email` arguments, saying what is wrong in terms the agent can
/// fix. Recipients are read by `address::parse`, as the classifiers read
/// them.
pub fn parse(arguments: &str) -> Result<SentEmail, String> {
    let object = args::object(
        arguments,
        "a JSON object with the fields to, subject and body",
    )?;
    let to = address::parse(object.get("to"))?;
    Ok(SentEmail {
        to,
        subject: args::required(&object, "subject")?,
        body: args::required(&object, "body")?,
    })
}

/// Runs one call: the email goes to `outbox` and the agent gets a receipt,
/// or nothing is sent and the agent is told why.
pub fn run(arguments: &str, outbox: &mut Vec<SentEmail>) -> String {
    match parse(arguments) {
        Ok(email) => {
            let receipt = receipt(&email.to, &email.subject);
            outbox.push(email);
            receipt
        }
        Err(problem) => refusal(&problem),
    }
}

/// What the agent is told when an email is delivered.
pub fn receipt(to: &[String], subject: &str) -> String {
    format!("Email sent to {}. Subject: \"{subject}\".", to.join(", "))
}

/// What the agent is told when a call is refused.
pub fn refusal(problem: &str) -> String {
    format!(
        "Error: the email was not sent: {problem}. {SEND_EMAIL} takes a JSON object with the \
         string fields to, subject and body."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_email_is_delivered_and_recorded() {
        let mut outbox = Vec::new();
        let receipt = run(
            r#"{"to": ["Hannah <hannah@l.example>", "p@l.example"], "subject": "Done", "body": "Ok."}"#,
            &mut outbox,
        );
        assert_eq!(
            receipt,
            "Email sent to hannah@l.example, p@l.example. Subject: \"Done\"."
        );
        assert_eq!(
            outbox,
            [SentEmail {
                to: vec!["hannah@l.example".into(), "p@l.example".into()],
                subject: "Done".into(),
                body: "Ok.".into(),
            }]
        );
    }

    #[test]
    fn a_malformed_call_is_refused_with_the_reason_and_sends_nothing() {
        let cases = [
            ("not json", "not valid JSON"),
            (
                "[1, 2]",
                "the arguments must be a JSON object with the fields to, subject and body",
            ),
            (r#"{"subject": "s", "body": "b"}"#, "`to` is missing"),
            (
                r#"{"to": "graham", "subject": "s", "body": "b"}"#,
                "`graham` is not an email address",
            ),
            (
                r#"{"to": "a@x.example", "body": "b"}"#,
                "`subject` is missing",
            ),
            (
                r#"{"to": "a@x.example", "subject": "s", "body": 3}"#,
                "`body` must be a string",
            ),
        ];
        for (arguments, expected) in cases {
            let mut outbox = Vec::new();
            let result = run(arguments, &mut outbox);
            assert!(
                result.starts_with("Error: the email was not sent: ")
                    && result.contains(expected)
                    && result.ends_with(
                        "send_email takes a JSON object with the string fields to, subject and body."
                    ),
                "{arguments}: {result}"
            );
            assert!(outbox.is_empty());
        }
    }
}
