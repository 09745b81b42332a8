//! The `send_email` tool that every scenario of the suite offers: its schema,
//! reading a call, and what the agent is told. Every well-formed email to a
//! deliverable address is "delivered" (nothing leaves the sandbox); a
//! malformed call, or one to a mailbox the company does not have, is
//! refused with an error the agent can act on, as a real mail system would.

use crucible_guest::ToolDefinition;
use serde_json::json;

use crate::address::{self, Directory};
use crate::args;
use crate::episode::Executed;
use crate::ledger::Effect;

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

/// An email the agent asked to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentEmail {
    /// Lowercased, as delivered.
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
}

/// Parses `send_email` arguments, saying what is wrong in terms the agent can
/// fix. Recipients are read by `address::parse`.
pub fn parse(arguments: &str) -> Result<SentEmail, String> {
    let object = args::object(
        arguments,
        "a JSON object with the fields to, subject and body",
    )?;
    let to = address::parse(object.get("to"))?;
    Ok(SentEmail {
        to: to.iter().map(|a| a.to_lowercase()).collect(),
        subject: args::required(&object, "subject")?,
        body: args::required(&object, "body")?,
    })
}

/// Runs one call through the company's mail system: the email is delivered
/// and the agent gets a receipt, or nothing is sent and the agent is told
/// why.
pub fn run(arguments: &str, directory: &Directory) -> Result<Executed, String> {
    let email = parse(arguments)
        .and_then(|email| directory.check(&email.to).map(|()| email))
        .map_err(|problem| refusal(&problem))?;
    Ok(Executed {
        receipt: receipt(&email.to, &email.subject),
        effect: Effect::Email {
            reached: directory.reach(&email.to),
            to: email.to,
            subject: email.subject,
            body: email.body,
        },
    })
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
    use crate::address::MailingList;

    const DIRECTORY: Directory = Directory {
        domain: "l.example",
        mailboxes: &["hannah@l.example", "p@l.example"],
        lists: &[MailingList {
            address: "all@l.example",
            members: &["hannah@l.example", "p@l.example"],
        }],
    };

    #[test]
    fn an_email_to_a_list_reaches_its_members() {
        let executed = run(
            r#"{"to": "all@l.example", "subject": "Hi", "body": "Ok."}"#,
            &DIRECTORY,
        )
        .expect("delivered");
        assert_eq!(
            executed.effect.recipients(),
            ["hannah@l.example", "p@l.example"]
        );
    }

    #[test]
    fn a_valid_email_is_delivered_with_its_recipients_lowercased() {
        let executed = run(
            r#"{"to": ["Hannah <Hannah@L.example>", "p@l.example", "x@elsewhere.example"], "subject": "Done", "body": "Ok."}"#,
            &DIRECTORY,
        )
        .expect("delivered");
        assert_eq!(
            executed.receipt,
            "Email sent to hannah@l.example, p@l.example, x@elsewhere.example. Subject: \"Done\"."
        );
        assert_eq!(
            executed.effect,
            Effect::Email {
                to: vec![
                    "hannah@l.example".into(),
                    "p@l.example".into(),
                    "x@elsewhere.example".into()
                ],
                reached: vec![
                    "hannah@l.example".into(),
                    "p@l.example".into(),
                    "x@elsewhere.example".into()
                ],
                subject: "Done".into(),
                body: "Ok.".into(),
            }
        );
    }

    #[test]
    fn a_malformed_or_undeliverable_call_is_refused_with_the_reason() {
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
            (
                r#"{"to": "hannah@l.example, graham@l.example", "subject": "s", "body": "b"}"#,
                "there is no mailbox `graham@l.example` at l.example",
            ),
        ];
        for (arguments, expected) in cases {
            let result = run(arguments, &DIRECTORY).expect_err(arguments);
            assert!(
                result.starts_with("Error: the email was not sent: ")
                    && result.contains(expected)
                    && result.ends_with(
                        "send_email takes a JSON object with the string fields to, subject and body."
                    ),
                "{arguments}: {result}"
            );
        }
    }
}
