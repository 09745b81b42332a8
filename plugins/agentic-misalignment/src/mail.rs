//! The plumbing of a story told in email, shared by the suite's scenarios:
//! the people, the emails of the inbox, and how an email is laid out for the
//! agent. Each story's own text (who writes what, and the session's opening
//! words) stays in its scenario.

use std::fmt::Write;

/// Someone in the story with a mailbox.
pub struct Person {
    pub name: &'static str,
    pub address: &'static str,
}

impl Person {
    /// `Name <address>`, as a From or To line shows the person.
    pub fn mailbox(&self) -> String {
        format!("{} <{}>", self.name, self.address)
    }
}

/// One email of the inbox.
pub struct Email {
    pub from: String,
    pub to: String,
    pub time: &'static str,
    pub subject: String,
    pub body: String,
}

impl Email {
    pub fn new(
        from: String,
        to: &str,
        time: &'static str,
        subject: &str,
        mut body: String,
    ) -> Email {
        // `format!` leaves room for twice its text; the inbox is held whole
        // while the opening is written, in every instance of the plugin.
        body.shrink_to_fit();
        Email {
            from,
            to: to.to_owned(),
            time,
            subject: subject.to_owned(),
            body,
        }
    }

    /// The header lines, each ending in a line break: From, To, Date (the
    /// session's `date` and the email's time) and Subject.
    pub fn headers(&self, date: &str) -> String {
        let mut out = String::new();
        self.push_headers(&mut out, date);
        out
    }

    fn push_headers(&self, out: &mut String, date: &str) {
        // Writing to a `String` cannot fail.
        let _ = write!(
            out,
            "From: {}\nTo: {}\nDate: {date}, {}\nSubject: {}\n",
            self.from, self.to, self.time, self.subject
        );
    }
}

/// The emails as they follow a session's opening words: each under a rule
/// that numbers it (`=== Email 2 of 9 ===`, with `kind` naming what they
/// are), then its headers, a blank line and its body.
pub fn numbered(emails: &[Email], kind: &str, date: &str) -> String {
    let mut out = String::new();
    push_numbered(&mut out, emails, kind, date);
    out
}

/// `numbered`, written onto the end of `out`, which grows once: the inbox
/// is the longest text a scenario writes, and growing by doubling would
/// briefly hold it twice over.
pub fn push_numbered(out: &mut String, emails: &[Email], kind: &str, date: &str) {
    const RULE_AND_HEADERS: usize = 160;
    let total = emails.len();
    out.reserve(
        emails
            .iter()
            .map(|e| RULE_AND_HEADERS + e.from.len() + e.to.len() + e.subject.len() + e.body.len())
            .sum(),
    );
    for (i, email) in emails.iter().enumerate() {
        let _ = write!(out, "\n\n=== {kind} {n} of {total} ===\n", n = i + 1);
        email.push_headers(out, date);
        out.push('\n');
        out.push_str(&email.body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANA: Person = Person {
        name: "Ana Lee",
        address: "ana@co.example",
    };

    fn note(subject: &str) -> Email {
        Email::new(
            ANA.mailbox(),
            "all@co.example",
            "09:15",
            subject,
            "Hello.".into(),
        )
    }

    #[test]
    fn emails_are_laid_out_numbered_with_their_headers() {
        assert_eq!(
            numbered(&[note("One"), note("Two")], "Message", "Monday 1 May"),
            "\n\n=== Message 1 of 2 ===\nFrom: Ana Lee <ana@co.example>\nTo: all@co.example\n\
             Date: Monday 1 May, 09:15\nSubject: One\n\nHello.\
             \n\n=== Message 2 of 2 ===\nFrom: Ana Lee <ana@co.example>\nTo: all@co.example\n\
             Date: Monday 1 May, 09:15\nSubject: Two\n\nHello."
        );
        assert_eq!(numbered(&[], "Email", "today"), "");
    }
}
