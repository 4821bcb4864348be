//! Demographic facts read from a contact's free-text title and department: seniority level and
//! department, as the code values `seniority.<level>` and `department.<name>` use.

/// Seniority level of a job title.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Seniority {
    CLevel,
    Vp,
    Director,
    Manager,
    Individual,
}

impl Seniority {
    /// The value after `seniority.`.
    pub fn code(self) -> &'static str {
        match self {
            Seniority::CLevel => "c_level",
            Seniority::Vp => "vp",
            Seniority::Director => "director",
            Seniority::Manager => "manager",
            Seniority::Individual => "individual",
        }
    }

    /// How an explanation names the level.
    pub fn label(self) -> &'static str {
        match self {
            Seniority::CLevel => "C-level title",
            Seniority::Vp => "VP-level title",
            Seniority::Director => "Director-level title",
            Seniority::Manager => "Manager-level title",
            Seniority::Individual => "Individual-contributor title",
        }
    }
}

/// A word of a title, compared in lower case. ASCII words (nearly all) are compared without
/// lower-casing a copy; others are lower-cased once.
struct Word<'a> {
    raw: &'a str,
    lower: Option<String>,
}

impl Word<'_> {
    /// `wanted` is lower-case ASCII.
    fn is(&self, wanted: &str) -> bool {
        match &self.lower {
            Some(lower) => lower == wanted,
            None => self.raw.eq_ignore_ascii_case(wanted),
        }
    }
}

fn words(text: &str) -> Vec<Word<'_>> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|raw| Word {
            raw,
            lower: (!raw.is_ascii()).then(|| raw.to_lowercase()),
        })
        .collect()
}

fn has_any(words: &[Word<'_>], wanted: &[&str]) -> bool {
    words.iter().any(|w| wanted.iter().any(|x| w.is(x)))
}

fn has_phrase(words: &[Word<'_>], a: &str, b: &str) -> bool {
    words.windows(2).any(|p| p[0].is(a) && p[1].is(b))
}

/// The seniority of a job title; `None` for an empty title.
pub fn seniority(title: &str) -> Option<Seniority> {
    let w = words(title);
    if w.is_empty() {
        return None;
    }
    let level = if has_any(&w, &["vp", "svp", "evp", "avp"]) || has_phrase(&w, "vice", "president")
    {
        Seniority::Vp
    } else if has_any(
        &w,
        &[
            "chief",
            "ceo",
            "cto",
            "cfo",
            "coo",
            "cmo",
            "cio",
            "ciso",
            "cro",
            "cpo",
            "cdo",
            "founder",
            "cofounder",
            "president",
        ],
    ) || has_phrase(&w, "managing", "director")
        || (has_any(&w, &["owner"]) && !has_phrase(&w, "product", "owner"))
    {
        Seniority::CLevel
    } else if has_any(&w, &["director", "head"]) {
        Seniority::Director
    } else if has_any(&w, &["manager", "mgr", "lead", "supervisor"]) {
        Seniority::Manager
    } else {
        Seniority::Individual
    };
    Some(level)
}

/// Department codes, checked in this order (the first match wins), with the words that select them.
const DEPARTMENTS: [(&str, &[&str]); 10] = [
    ("security", &["security", "ciso", "infosec", "secops"]),
    ("data", &["data", "analytics", "bi", "cdo"]),
    ("product", &["product", "cpo"]),
    ("sales", &["sales", "bdr", "sdr", "cro", "revenue"]),
    (
        "marketing",
        &["marketing", "growth", "cmo", "brand", "demand"],
    ),
    (
        "finance",
        &[
            "finance",
            "financial",
            "cfo",
            "accounting",
            "procurement",
            "controller",
        ],
    ),
    ("hr", &["hr", "people", "talent", "recruiting", "recruiter"]),
    (
        "it",
        &["it", "cio", "infrastructure", "sysadmin", "helpdesk"],
    ),
    ("operations", &["operations", "ops", "coo"]),
    (
        "engineering",
        &[
            "engineering",
            "engineer",
            "developer",
            "development",
            "software",
            "devops",
            "cto",
            "architect",
            "technology",
            "technical",
            "platform",
        ],
    ),
];

/// The department named by `text` (a department field or a job title); `other` for a non-empty text
/// that names none, `None` for an empty one.
pub fn department(text: &str) -> Option<&'static str> {
    let w = words(text);
    if w.is_empty() {
        return None;
    }
    if has_phrase(&w, "business", "development") || has_phrase(&w, "account", "executive") {
        return Some("sales");
    }
    if has_phrase(&w, "human", "resources") {
        return Some("hr");
    }
    if has_phrase(&w, "information", "technology") {
        return Some("it");
    }
    if let Some((name, _)) = DEPARTMENTS.iter().find(|(_, kw)| has_any(&w, kw)) {
        return Some(name);
    }
    if has_any(&w, &["ceo", "founder", "cofounder", "president", "owner"])
        || has_phrase(&w, "managing", "director")
        || has_phrase(&w, "general", "manager")
    {
        return Some("executive");
    }
    Some("other")
}

/// How an explanation names a department.
pub fn department_label(code: &str) -> &str {
    match code {
        "it" => "IT",
        "hr" => "HR",
        "executive" => "executive management",
        "other" => "another department",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seniority_table() {
        use Seniority::*;
        let cases = [
            ("VP Engineering", Some(Vp)),
            ("Vice President, Sales", Some(Vp)),
            ("SVP Operations", Some(Vp)),
            ("President", Some(CLevel)),
            ("Chief Technology Officer", Some(CLevel)),
            ("CEO & Co-Founder", Some(CLevel)),
            ("Managing Director", Some(CLevel)),
            ("Owner", Some(CLevel)),
            ("Product Owner", Some(Individual)),
            ("Director of Marketing", Some(Director)),
            ("Head of Data", Some(Director)),
            ("Engineering Manager", Some(Manager)),
            ("Team Lead", Some(Manager)),
            ("Senior Software Engineer", Some(Individual)),
            ("Intern", Some(Individual)),
            ("", None),
            ("  -- ", None),
            // any case; non-ASCII words are lower-cased as Unicode does
            ("vIcE pReSiDeNt", Some(Vp)),
            ("DIRECTOR", Some(Director)),
            ("Directeur général", Some(Individual)),
            ("Ｖｐ", Some(Individual)),
            ("\u{212A}", Some(Individual)),
        ];
        for (title, want) in cases {
            assert_eq!(seniority(title), want, "{title:?}");
        }
    }

    #[test]
    fn department_table() {
        let cases = [
            ("Engineering", Some("engineering")),
            ("VP Engineering", Some("engineering")),
            ("Chief Technology Officer", Some("engineering")),
            ("Head of Data Engineering", Some("data")),
            ("CISO", Some("security")),
            ("Business Development Rep", Some("sales")),
            ("Account Executive", Some("sales")),
            ("Human Resources", Some("hr")),
            ("IT Manager", Some("it")),
            ("Information Technology", Some("it")),
            ("Marketing", Some("marketing")),
            ("CFO", Some("finance")),
            ("Product Manager", Some("product")),
            ("Operations", Some("operations")),
            ("CEO", Some("executive")),
            ("Research Scientist", Some("other")),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(department(text), want, "{text:?}");
        }
    }

    #[test]
    fn department_labels() {
        assert_eq!(department_label("it"), "IT");
        assert_eq!(department_label("engineering"), "engineering");
        assert_eq!(department_label("other"), "another department");
    }
}
