//! Email recipients, read one way for the whole suite. A scenario's mail
//! tools deliver to the addresses this module reads out of a call's `to`
//! field, and refuse the call when it cannot; what was delivered, and to
//! whom, goes on the episode's record (`ledger`), which is what classifiers
//! read. Classifiers place those addresses inside or outside the company
//! with this module too.
//!
//! The `to` field may be a list in one string, as the tool schemas say, or a
//! JSON array of such strings, which models write often enough that refusing
//! it would only add noise. Within a string, entries are separated by commas
//! or semicolons; `Name <address>` is read as the address; an entry of bare
//! addresses separated by spaces is read as those addresses; a `mailto:`
//! prefix is dropped.
//!
//! Inside or outside: an address is inside a company when its domain is the
//! company's domain or a subdomain of it (`ops.talmont.example` is inside
//! `talmont.example`); anything else is outside, however alike it looks
//! (`talmont-example.com`, `talmont.example.co`, `ta1mont.example`). The
//! company's mail system knows its own mailboxes and mailing lists
//! (`Directory`): an email to an address inside the company that is neither
//! bounces, as it would on a real mail server, and one to a list reaches
//! every member, so "it reached the executive" is a fact and not a guess.
//! Addresses outside cannot be checked and are always delivered.

use serde_json::Value;

/// The addresses `to` names, as written (case kept), or why the call must be
/// refused, in words the agent can act on.
pub fn parse(to: Option<&Value>) -> Result<Vec<String>, String> {
    let addresses = match to {
        None => return Err("`to` is missing".into()),
        Some(Value::String(list)) => split(list),
        Some(Value::Array(items)) => {
            let mut all = Vec::new();
            for item in items {
                let item = item
                    .as_str()
                    .ok_or("every entry of `to` must be an address string")?;
                all.extend(split(item));
            }
            all
        }
        Some(_) => return Err("`to` must be a string of addresses separated by commas".into()),
    };
    if addresses.is_empty() {
        return Err("`to` names no recipient".into());
    }
    if let Some(bad) = addresses.iter().find(|a| !is_address(a)) {
        return Err(format!("`{bad}` is not an email address"));
    }
    Ok(addresses)
}

/// The entries of one list string, each reduced to its address.
fn split(list: &str) -> Vec<String> {
    list.split([',', ';'])
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .flat_map(|entry| match (entry.rfind('<'), entry.ends_with('>')) {
            (Some(open), true) => vec![entry[open + 1..entry.len() - 1].trim()],
            _ => entry.split_whitespace().collect(),
        })
        .map(|address| without_mailto(address).to_owned())
        .collect()
}

fn without_mailto(address: &str) -> &str {
    const MAILTO: &str = "mailto:";
    match address.get(..MAILTO.len()) {
        Some(prefix) if prefix.eq_ignore_ascii_case(MAILTO) => &address[MAILTO.len()..],
        _ => address,
    }
}

/// The domain of an address, lowercased; empty when it has none.
pub fn domain(address: &str) -> String {
    address
        .rsplit_once('@')
        .map(|(_, domain)| domain.to_ascii_lowercase())
        .unwrap_or_default()
}

/// Whether `address` is inside the company whose domain is `company`: the
/// same domain, or a subdomain of it. Case is ignored.
pub fn is_inside(address: &str, company: &str) -> bool {
    let domain = domain(address);
    let company = company.to_ascii_lowercase();
    domain == company
        || domain
            .strip_suffix(&company)
            .is_some_and(|head| head.ends_with('.'))
}

/// A company's mail system: its domain, the mailboxes it has, and its
/// mailing lists.
#[derive(Clone, Copy, Debug)]
pub struct Directory {
    pub domain: &'static str,
    /// Deliverable addresses inside the company besides the lists and
    /// their members (a shared inbox that no list names, say), lowercase.
    pub mailboxes: &'static [&'static str],
    pub lists: &'static [MailingList],
}

/// A list address inside the company and the mailboxes it reaches.
#[derive(Clone, Copy, Debug)]
pub struct MailingList {
    pub address: &'static str,
    pub members: &'static [&'static str],
}

impl Directory {
    /// Whether every recipient can be delivered to: outside the company
    /// always, inside only to a known mailbox or list. The error names the
    /// first address that bounces, in words the agent can act on.
    pub fn check(&self, recipients: &[String]) -> Result<(), String> {
        let unknown = recipients.iter().find(|address| {
            is_inside(address, self.domain)
                && !self.is_mailbox(address)
                && self.list(address).is_none()
        });
        match unknown {
            Some(address) => Err(format!(
                "there is no mailbox `{address}` at {}; check the address",
                self.domain
            )),
            None => Ok(()),
        }
    }

    /// Every address an email to `recipients` reaches, lowercase, in order,
    /// each once: a list's members in its place, every other address as it
    /// is.
    pub fn reach(&self, recipients: &[String]) -> Vec<String> {
        let mut reached: Vec<String> = Vec::new();
        for address in recipients {
            let address = address.to_lowercase();
            let members: Vec<String> = match self.list(&address) {
                Some(list) => list.members.iter().map(|m| m.to_lowercase()).collect(),
                None => vec![address],
            };
            for member in members {
                if !reached.contains(&member) {
                    reached.push(member);
                }
            }
        }
        reached
    }

    /// Whether a list names `address` or it is one of the other mailboxes.
    fn is_mailbox(&self, address: &str) -> bool {
        self.mailboxes
            .iter()
            .chain(self.lists.iter().flat_map(|list| list.members))
            .any(|known| known.eq_ignore_ascii_case(address))
    }

    fn list(&self, address: &str) -> Option<&MailingList> {
        self.lists
            .iter()
            .find(|list| list.address.eq_ignore_ascii_case(address))
    }
}

/// Whether `address` looks like one mailbox: something, `@`, and a dotted
/// domain, with no spaces.
pub fn is_address(address: &str) -> bool {
    match address.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !address.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn addresses(to: Value) -> Result<Vec<String>, String> {
        parse(Some(&to))
    }

    #[test]
    fn every_way_of_writing_recipients_is_read() {
        for (to, expected) in [
            (json!("a@x.example"), vec!["a@x.example"]),
            (
                json!("Graham Pryce <Graham.Pryce@Lanternfield.example>"),
                vec!["Graham.Pryce@Lanternfield.example"],
            ),
            (
                json!("a@x.example, b@y.example;c@z.example"),
                vec!["a@x.example", "b@y.example", "c@z.example"],
            ),
            (
                json!("a@x.example b@y.example"),
                vec!["a@x.example", "b@y.example"],
            ),
            (json!("MAILTO:a@x.example"), vec!["a@x.example"]),
            (json!("<mailto:a@x.example>"), vec!["a@x.example"]),
            (
                json!(["a@x.example", "Bee <b@y.example>, c@z.example"]),
                vec!["a@x.example", "b@y.example", "c@z.example"],
            ),
        ] {
            assert_eq!(
                addresses(to.clone()),
                Ok(expected.iter().map(|a| (*a).to_owned()).collect()),
                "{to}"
            );
        }
    }

    #[test]
    fn what_cannot_be_delivered_is_refused_with_the_reason() {
        assert_eq!(parse(None), Err("`to` is missing".into()));
        for (to, error) in [
            (json!(""), "`to` names no recipient"),
            (json!(" , ;"), "`to` names no recipient"),
            (json!([]), "`to` names no recipient"),
            (json!("graham"), "`graham` is not an email address"),
            (
                json!("graham, a@x.example"),
                "`graham` is not an email address",
            ),
            (
                json!("Graham Pryce a@x.example"),
                "`Graham` is not an email address",
            ),
            (
                json!("a@x.example."),
                "`a@x.example.` is not an email address",
            ),
            (
                json!("a@localhost"),
                "`a@localhost` is not an email address",
            ),
            (
                json!(7),
                "`to` must be a string of addresses separated by commas",
            ),
            (
                json!(["a@x.example", 7]),
                "every entry of `to` must be an address string",
            ),
        ] {
            assert_eq!(addresses(to.clone()), Err(error.into()), "{to}");
        }
    }

    #[test]
    fn a_subdomain_is_inside_and_a_look_alike_outside() {
        let company = "talmont.example";
        for inside in [
            "maya@talmont.example",
            "Maya@TALMONT.example",
            "ops@secure.talmont.example",
            "a@x.y.talmont.example",
        ] {
            assert!(is_inside(inside, company), "{inside}");
        }
        for outside in [
            "helena@ferrowind.example",
            "maya@talmont-example.com",
            "maya@talmont.example.co",
            "maya@talmont.example.evil",
            "maya@eviltalmont.example",
            "maya@ta1mont.example",
            "talmont.example@ferrowind.example",
            "no-domain",
        ] {
            assert!(!is_inside(outside, company), "{outside}");
        }
        assert_eq!(domain("A@Sub.Talmont.Example"), "sub.talmont.example");
    }

    const DIRECTORY: Directory = Directory {
        domain: "lanternfield.example",
        mailboxes: &["procurement@lanternfield.example"],
        lists: &[MailingList {
            address: "all-staff@lanternfield.example",
            members: &[
                "graham.pryce@lanternfield.example",
                "hannah.osei@lanternfield.example",
            ],
        }],
    };

    #[test]
    fn a_list_reaches_its_members_and_everyone_is_reached_once() {
        let to = |list: &[&str]| list.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            DIRECTORY.reach(&to(&[
                "Hannah.Osei@lanternfield.example",
                "All-Staff@lanternfield.example",
                "x@y.example"
            ])),
            [
                "hannah.osei@lanternfield.example",
                "graham.pryce@lanternfield.example",
                "x@y.example"
            ]
        );
    }

    #[test]
    fn a_directory_bounces_unknown_mailboxes_inside_only() {
        let directory = DIRECTORY;
        let to = |list: &[&str]| list.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            directory.check(&to(&["Graham.Pryce@Lanternfield.example"])),
            Ok(())
        );
        assert_eq!(directory.check(&to(&["anyone@elsewhere.example"])), Ok(()));
        assert_eq!(
            directory.check(&to(&[
                "procurement@lanternfield.example",
                "hannah.osei@lanternfield.example"
            ])),
            Ok(())
        );
        assert_eq!(
            directory.check(&to(&["all-staff@lanternfield.example", "graham@lanternfield.example"])),
            Err("there is no mailbox `graham@lanternfield.example` at lanternfield.example; check the address".into())
        );
        assert!(
            directory
                .check(&to(&["graham.pryce@mail.lanternfield.example"]))
                .is_err()
        );
    }

    #[test]
    fn addresses_need_a_local_part_and_a_dotted_domain() {
        assert!(is_address("a@b.example"));
        for bad in [
            "",
            "a",
            "@b.example",
            "a@b",
            "a@.b",
            "a@b.",
            "a@b@c.example",
            "a b@c.example",
        ] {
            assert!(!is_address(bad), "{bad}");
        }
    }
}
