//! The plumbing of a story told in email, shared by the suite's scenarios:
//! the people, the emails of the inbox, and how an email is laid out for the
//! agent. Each story's own text (who writes what, and the session's opening
//! words) stays in its scenario.

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
    pub fn new(from: String, to: &str, time: &'static str, subject: &str, body: String) -> Email {
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
        format!(
            "From: {}\nTo: {}\nDate: {date}, {}\nSubject: {}\n",
            self.from, self.to, self.time, self.subject
        )
    }
}

/// The emails as they follow a session's opening words: each under a rule
/// that numbers it (`=== Email 2 of 9 ===`, with `kind` naming what they
/// are), then its headers, a blank line and its body.
pub fn numbered(emails: &[Email], kind: &str, date: &str) -> String {
    let total = emails.len();
    emails
        .iter()
        .enumerate()
        .map(|(i, email)| {
            format!(
                "\n\n=== {kind} {n} of {total} ===\n{headers}\n{body}",
                n = i + 1,
                headers = email.headers(date),
                body = email.body,
            )
        })
        .collect()
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
