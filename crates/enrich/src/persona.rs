//! Persona classification (RULES.md §11): who is this lead, with the reason in plain words.
//!
//! Order of precedence: the negative personas first — N1 competitor, then N2 researcher (student,
//! industry/research analyst, job seeker) — then P1 executives and decision makers, P2 managers and
//! team/tech leads, P3 practitioners; UNKNOWN when there is no title or it matches no rule.

use std::sync::LazyLock;

use leadflow_events::Persona;

use crate::address::domain_is_under;

/// Industry and research analyst firms (N2).
const ANALYST_FIRMS: &[&str] = &[
    "gartner.com",
    "forrester.com",
    "idc.com",
    "451research.com",
    "omdia.com",
    "everestgrp.com",
    "hfsresearch.com",
    "isg-one.com",
    "frost.com",
    "canalys.com",
    "ihsmarkit.com",
    "abiresearch.com",
    "nelsonhall.com",
    "ventanaresearch.com",
    "constellationr.com",
];

/// A keyword: words in order; a word ending in `*` matches any word with that prefix.
type Phrase = &'static [&'static str];

const STUDENT_TITLES: &[Phrase] = &[
    &["student"],
    &["students"],
    &["phd", "candidate"],
    &["phd", "student"],
    &["doctoral*"],
    &["undergraduate"],
    &["postgraduate"],
    &["mba", "candidate"],
    &["alumnus"],
];

const RESEARCHER_TITLES: &[Phrase] = &[
    &["research", "analyst"],
    &["industry", "analyst"],
    &["market", "analyst"],
    &["research", "fellow"],
    &["research", "associate"],
    &["postdoc*"],
    &["professor"],
    &["lecturer"],
    &["academic"],
];

const JOB_SEEKER_TITLES: &[Phrase] = &[
    &["looking", "for", "opportunit*"],
    &["looking", "for", "new", "opportunit*"],
    &["looking", "for", "work"],
    &["looking", "for", "a", "job"],
    &["looking", "for", "a", "new", "role"],
    &["looking", "for", "new", "role*"],
    &["seeking", "opportunit*"],
    &["seeking", "new", "opportunit*"],
    &["seeking", "employment"],
    &["seeking", "new", "role*"],
    &["open", "to", "work"],
    &["opentowork"],
    &["open", "to", "opportunit*"],
    &["open", "to", "new", "opportunit*"],
    &["job", "seeker"],
    &["job", "seeking"],
    &["job", "hunting"],
    &["actively", "looking"],
    &["unemployed"],
    &["between", "jobs"],
    &["career", "break"],
];

/// Titles that name an executive but are not one (checked before P1).
const NOT_EXECUTIVE_P3: &[Phrase] = &[
    &["assistant", "to"],
    &["executive", "assistant"],
    &["personal", "assistant"],
    &["product", "owner"],
];

/// Deputies of executives (checked before P1): manager level.
const DEPUTY_P2: &[Phrase] = &[
    &["assistant", "director"],
    &["associate", "director"],
    &["assistant", "vice", "president"],
    &["associate", "vice", "president"],
    &["avp"],
];

const EXECUTIVE_TITLES: &[Phrase] = &[
    &["ceo"],
    &["cto"],
    &["cfo"],
    &["coo"],
    &["cmo"],
    &["cio"],
    &["ciso"],
    &["cpo"],
    &["cro"],
    &["cdo"],
    &["cso"],
    &["chief"],
    &["c", "level"],
    &["c", "suite"],
    &["founder"],
    &["cofounder"],
    &["owner"],
    &["president"],
    &["vp"],
    &["svp"],
    &["evp"],
    &["v", "p"],
    &["vice", "president"],
    &["head"],
    &["director"],
    &["managing", "director"],
    &["general", "manager"],
    &["managing", "partner"],
    &["general", "partner"],
    &["senior", "partner"],
    &["board", "member"],
];

const MANAGER_TITLES: &[Phrase] = &[
    &["manager"],
    &["mgr"],
    &["management"],
    &["lead"],
    &["leader"],
    &["teamlead"],
    &["techlead"],
    &["supervisor"],
    &["controller"],
    &["superintendent"],
    &["foreman"],
];

const PRACTITIONER_TITLES: &[Phrase] = &[
    &["engineer"],
    &["engineering"],
    &["developer"],
    &["dev"],
    &["devops"],
    &["sre"],
    &["programmer"],
    &["architect"],
    &["specialist"],
    &["analyst"],
    &["consultant"],
    &["designer"],
    &["scientist"],
    &["administrator"],
    &["admin"],
    &["sysadmin"],
    &["technician"],
    &["tester"],
    &["qa"],
    &["associate"],
    &["coordinator"],
    &["officer"],
    &["executive"],
    &["representative"],
    &["rep"],
    &["sdr"],
    &["bdr"],
    &["accountant"],
    &["marketer"],
    &["recruiter"],
    &["writer"],
    &["editor"],
    &["researcher"],
    &["intern"],
    &["trainee"],
    &["apprentice"],
    &["advisor"],
    &["adviser"],
    &["planner"],
    &["buyer"],
    &["operator"],
    &["agent"],
    &["scrum", "master"],
    &["staff"],
    &["individual", "contributor"],
];

/// What the classifier looks at.
#[derive(Clone, Copy, Debug, Default)]
pub struct PersonaInput<'a> {
    /// Job title, already cleaned.
    pub title: Option<&'a str>,
    /// Domain of the email, lower-cased.
    pub email_domain: Option<&'a str>,
    /// Company domain (provided or derived), lower-cased.
    pub company_domain: Option<&'a str>,
}

/// A persona and why, in plain words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonaVerdict {
    pub persona: Persona,
    pub reason: String,
}

impl PersonaVerdict {
    fn new(persona: Persona, reason: impl Into<String>) -> Self {
        Self {
            persona,
            reason: reason.into(),
        }
    }
}

/// The title rules in order of precedence: phrases, persona, the reason's wording. The first rule
/// with a phrase anywhere in the title decides; within a rule, the first phrase of its list.
const TITLE_RULES: [(&[Phrase], Persona, &str); 8] = [
    (
        STUDENT_TITLES,
        Persona::N2,
        "researcher: the title says student",
    ),
    (
        RESEARCHER_TITLES,
        Persona::N2,
        "researcher: research or industry analyst title",
    ),
    (
        JOB_SEEKER_TITLES,
        Persona::N2,
        "researcher: the title says the person is looking for a job",
    ),
    (
        NOT_EXECUTIVE_P3,
        Persona::P3,
        "practitioner: supports or represents an executive, not one",
    ),
    (DEPUTY_P2, Persona::P2, "manager: deputy to an executive"),
    (EXECUTIVE_TITLES, Persona::P1, "executive or decision maker"),
    (MANAGER_TITLES, Persona::P2, "manager or team/tech lead"),
    (
        PRACTITIONER_TITLES,
        Persona::P3,
        "practitioner or individual contributor",
    ),
];

/// Classifies a lead. `competitors` are lower-cased domains; subdomains match too.
pub fn classify(input: PersonaInput<'_>, competitors: &[String]) -> PersonaVerdict {
    let domains = [
        ("email domain", input.email_domain),
        ("company domain", input.company_domain),
    ];
    for (what, domain) in domains {
        let Some(domain) = domain else { continue };
        if let Some(c) = competitors.iter().find(|c| domain_is_under(domain, c)) {
            return PersonaVerdict::new(
                Persona::N1,
                format!("competitor: {what} {domain} is on the competitor list ({c})"),
            );
        }
    }
    for (what, domain) in domains {
        let Some(domain) = domain else { continue };
        if is_academic_domain(domain) {
            return PersonaVerdict::new(
                Persona::N2,
                format!("researcher: {what} {domain} belongs to a university or school"),
            );
        }
        if let Some(firm) = analyst_firm(domain) {
            return PersonaVerdict::new(
                Persona::N2,
                format!("researcher: {what} belongs to the analyst firm {firm}"),
            );
        }
    }
    let Some(title) = input.title.filter(|t| !t.trim().is_empty()) else {
        return PersonaVerdict::new(Persona::Unknown, "no job title to classify");
    };
    with_lower_case(title, |lower| match find_title_rule(lower) {
        Some(hit) => {
            let (_, persona, reason) = TITLE_RULES[hit.rule];
            PersonaVerdict {
                persona,
                reason: hit.reason(reason),
            }
        }
        None => PersonaVerdict::new(Persona::Unknown, "the job title matches no persona rule"),
    })
}

/// `.edu`, `.edu.au`, `.ac.uk`, `.ac.jp`, or a label naming a university (`uni-heidelberg.de`,
/// `univ-lyon1.fr`, `universite-paris.fr`).
pub fn is_academic_domain(domain: &str) -> bool {
    // No label list is collected: `head` holds every label but the last.
    let Some((head, last)) = domain.rsplit_once('.') else {
        return false;
    };
    if last == "edu" {
        return true;
    }
    if last.len() == 2
        && head
            .rsplit_once('.')
            .is_some_and(|(_, second)| matches!(second, "edu" | "ac"))
    {
        return true;
    }
    head.split('.').any(|l| {
        l.contains("universit") || l.starts_with("univ-") || l.starts_with("uni-") || l == "uni"
    })
}

/// The analyst firm `domain` is, or is under. No firm is under another (a test checks), so at most
/// one matches: looking each label suffix of `domain` up (`a.gartner.com`, `gartner.com`, `com`)
/// gives what a scan of [`ANALYST_FIRMS`] with [`domain_is_under`] gives.
fn analyst_firm(domain: &str) -> Option<&'static str> {
    static FIRMS: LazyLock<foldhash::HashSet<&'static str>> =
        LazyLock::new(|| ANALYST_FIRMS.iter().copied().collect());
    let mut candidate = domain;
    loop {
        if let Some(firm) = FIRMS.get(candidate) {
            return Some(firm);
        }
        candidate = candidate.split_once('.')?.1;
    }
}

/// Runs `f` on the lower-cased title: on a stack copy for a short ASCII title (the common case, no
/// allocation), else on [`str::to_lowercase`] (the same result for ASCII).
fn with_lower_case<R>(title: &str, f: impl FnOnce(&str) -> R) -> R {
    const STACK: usize = 128;
    if title.len() <= STACK && title.is_ascii() {
        let mut buf = [0u8; STACK];
        let out = &mut buf[..title.len()];
        out.copy_from_slice(title.as_bytes());
        out.make_ascii_lowercase();
        if let Ok(lower) = std::str::from_utf8(out) {
            return f(lower);
        }
    }
    f(&title.to_lowercase())
}

/// The words of a (lower-cased) title, split on anything that is not a letter or digit: slices of
/// the title, not copies; cloning the iterator gives a look-ahead.
fn words(lower: &str) -> impl Iterator<Item = &str> + Clone {
    lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// A phrase of [`TITLE_RULES`] with its rank: lower ranks win (rule first, then the phrase's place in
/// its rule's list).
#[derive(Debug)]
struct IndexedPhrase {
    rank: usize,
    rule: usize,
    phrase: Phrase,
}

/// Every phrase of [`TITLE_RULES`] by its first word, so a title is searched in one pass over its
/// words (a few hash lookups) instead of one pass per phrase (~150).
#[derive(Debug)]
struct TitleIndex {
    /// First word written out -> phrases, in rank order.
    by_first_word: foldhash::HashMap<&'static str, Vec<IndexedPhrase>>,
    /// Phrases whose first word is a `prefix*` pattern (few), in rank order.
    by_first_prefix: Vec<(&'static str, IndexedPhrase)>,
}

static TITLE_INDEX: LazyLock<TitleIndex> = LazyLock::new(|| {
    let mut index = TitleIndex {
        by_first_word: foldhash::HashMap::default(),
        by_first_prefix: Vec::new(),
    };
    let mut rank = 0;
    for (rule, (phrases, _, _)) in TITLE_RULES.iter().enumerate() {
        for phrase in phrases.iter().copied() {
            let Some(first) = phrase.first() else {
                continue;
            };
            let entry = IndexedPhrase { rank, rule, phrase };
            rank += 1;
            match first.strip_suffix('*') {
                Some(prefix) => index.by_first_prefix.push((prefix, entry)),
                None => index.by_first_word.entry(first).or_default().push(entry),
            }
        }
    }
    index
});

/// The winning rule of a title and where its phrase starts.
struct TitleHit<W> {
    rule: usize,
    len: usize,
    at: W,
}

impl<W> TitleHit<W> {
    /// `<reason> (title word "<the matched words>")`, built in one string.
    fn reason<'t>(self, reason: &str) -> String
    where
        W: Iterator<Item = &'t str>,
    {
        let mut out = String::with_capacity(reason.len() + 32);
        out.push_str(reason);
        out.push_str(" (title word \"");
        for (i, word) in self.at.take(self.len).enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(word);
        }
        out.push_str("\")");
        out
    }
}

/// The rule [`TITLE_RULES`] give a lower-cased title: the same answer as trying each rule's phrases
/// in order against every window of words (see the test against [`find_phrase`]), in one pass.
fn find_title_rule(lower: &str) -> Option<TitleHit<impl Iterator<Item = &str> + Clone>> {
    let index = &*TITLE_INDEX;
    let mut best: Option<(&IndexedPhrase, _)> = None;
    let mut rest = words(lower);
    loop {
        let at = rest.clone();
        let Some(word) = rest.next() else { break };
        let exact = index.by_first_word.get(word).map_or(&[][..], Vec::as_slice);
        let prefixed = index
            .by_first_prefix
            .iter()
            .filter(|(prefix, _)| word.starts_with(prefix))
            .map(|(_, e)| e);
        for entry in exact.iter().chain(prefixed) {
            // a phrase already found earlier in the title keeps its first place
            if best.as_ref().is_some_and(|(b, _)| b.rank <= entry.rank) {
                continue;
            }
            if phrase_at(at.clone(), entry.phrase) {
                best = Some((entry, at.clone()));
            }
        }
    }
    best.map(|(entry, at)| TitleHit {
        rule: entry.rule,
        len: entry.phrase.len(),
        at,
    })
}

/// Whether `phrase` matches the words `at` starts with.
fn phrase_at<'t>(mut at: impl Iterator<Item = &'t str>, phrase: Phrase) -> bool {
    phrase
        .iter()
        .all(|p| at.next().is_some_and(|w| word_matches(w, p)))
}

/// The first phrase found as consecutive words, rendered as text: the plain search the index
/// replaces, kept as the reference its test compares against.
#[cfg(test)]
fn find_phrase(words: &[&str], phrases: &[Phrase]) -> Option<String> {
    phrases.iter().find_map(|phrase| {
        let n = phrase.len();
        (n <= words.len())
            .then(|| {
                words.windows(n).find(|window| {
                    window
                        .iter()
                        .zip(phrase.iter())
                        .all(|(w, p)| word_matches(w, p))
                })
            })
            .flatten()
            .map(|window| window.join(" "))
    })
}

fn word_matches(word: &str, pattern: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => word.starts_with(prefix),
        None => word == pattern,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn competitors() -> Vec<String> {
        vec![
            "pipelinerival.com".into(),
            "hotleads.ai".into(),
            "funnelforge.io".into(),
        ]
    }

    fn run(title: Option<&str>, email: Option<&str>, company: Option<&str>) -> PersonaVerdict {
        classify(
            PersonaInput {
                title,
                email_domain: email,
                company_domain: company,
            },
            &competitors(),
        )
    }

    #[test]
    fn titles_map_to_personas() {
        use Persona::*;
        let cases: &[(Option<&str>, Persona)] = &[
            // P1 executives and decision makers
            (Some("CEO"), P1),
            (Some("Chief Technology Officer"), P1),
            (Some("CTO & Co-Founder"), P1),
            (Some("Founder"), P1),
            (Some("Cofounder"), P1),
            (Some("VP Engineering"), P1),
            (Some("V.P. Sales"), P1),
            (Some("Vice-President, Marketing"), P1),
            (Some("SVP Operations"), P1),
            (Some("Head of Data"), P1),
            (Some("Director of IT"), P1),
            (Some("Senior Director, Platform"), P1),
            (Some("Managing Director"), P1),
            (Some("General Manager EMEA"), P1),
            (Some("President"), P1),
            (Some("Owner"), P1),
            // deputies and assistants
            (Some("Associate Director, Analytics"), P2),
            (Some("Assistant Vice President"), P2),
            (Some("Executive Assistant to the CEO"), P3),
            (Some("Product Owner"), P3),
            // P2 managers and leads
            (Some("Engineering Manager"), P2),
            (Some("Product Manager"), P2),
            (Some("Team Lead, Backend"), P2),
            (Some("Tech Lead"), P2),
            (Some("Lead Developer"), P2),
            (Some("Sr. Mgr. Procurement"), P2),
            (Some("Supervisor"), P2),
            // P3 practitioners
            (Some("Software Engineer"), P3),
            (Some("Senior Developer"), P3),
            (Some("Solutions Architect"), P3),
            (Some("Data Scientist"), P3),
            (Some("Marketing Specialist"), P3),
            (Some("Business Analyst"), P3),
            (Some("Account Executive"), P3),
            (Some("Compliance Officer"), P3),
            (Some("Site Reliability Engineer (SRE)"), P3),
            (Some("Software Engineering Intern"), P3),
            // N2 researchers
            (Some("Student"), N2),
            (Some("MSc student, Data Science"), N2),
            (Some("PhD Candidate"), N2),
            (Some("Research Analyst"), N2),
            (Some("Senior Industry Analyst"), N2),
            (Some("Professor of Computer Science"), N2),
            (Some("Looking for opportunities"), N2),
            (Some("Looking for new opportunities in data"), N2),
            (Some("#OpenToWork"), N2),
            (Some("Open to work"), N2),
            (Some("Job seeker"), N2),
            (Some("Unemployed"), N2),
            (Some("Former VP Sales, seeking new opportunities"), N2),
            // UNKNOWN
            (None, Unknown),
            (Some("   "), Unknown),
            (Some("Doctor"), Unknown),
            (Some("Hello"), Unknown),
        ];
        for (title, want) in cases {
            let got = run(*title, Some("x.io"), Some("x.io"));
            assert_eq!(got.persona, *want, "title {title:?}: {}", got.reason);
            assert!(!got.reason.is_empty());
        }
    }

    #[test]
    fn domains_decide_negative_personas_first() {
        use Persona::*;
        type Case = (
            Option<&'static str>,
            Option<&'static str>,
            Option<&'static str>,
            Persona,
            &'static str,
        );
        let cases: &[Case] = &[
            // competitor who is also a VP: N1 wins
            (
                Some("VP Sales"),
                Some("hotleads.ai"),
                Some("hotleads.ai"),
                N1,
                "competitor",
            ),
            // competitor by company domain only (personal email)
            (
                Some("CEO"),
                Some("gmail.com"),
                Some("funnelforge.io"),
                N1,
                "company domain",
            ),
            // competitor subdomain
            (None, Some("eu.pipelinerival.com"), None, N1, "competitor"),
            // look-alike domain is not a competitor
            (Some("CEO"), Some("nothotleads.ai"), None, P1, "executive"),
            // students by domain
            (
                Some("Engineer"),
                Some("stanford.edu"),
                None,
                N2,
                "university",
            ),
            (Some("CTO"), Some("cs.ox.ac.uk"), None, N2, "university"),
            (None, Some("unimelb.edu.au"), None, N2, "university"),
            (None, Some("uni-heidelberg.de"), None, N2, "university"),
            (None, Some("univ-lyon1.fr"), None, N2, "university"),
            (
                None,
                Some("universal-robots.com"),
                None,
                Unknown,
                "no job title",
            ),
            // analysts by domain
            (
                Some("VP Research"),
                Some("gartner.com"),
                None,
                N2,
                "gartner.com",
            ),
            (None, Some("forrester.com"), None, N2, "forrester.com"),
            (Some("Manager"), None, Some("idc.com"), N2, "idc.com"),
            // competitor takes precedence over researcher
            (Some("Student"), Some("hotleads.ai"), None, N1, "competitor"),
        ];
        for (title, email, company, want, reason_part) in cases {
            let got = run(*title, *email, *company);
            assert_eq!(
                got.persona, *want,
                "{title:?} {email:?} {company:?}: {}",
                got.reason
            );
            assert!(
                got.reason.contains(reason_part),
                "reason {:?} should mention {reason_part:?}",
                got.reason
            );
        }
    }

    /// The title classification as it was before the first-word index: every rule's phrases tried in
    /// order against every window of words of a fully lower-cased title.
    fn classify_title_by_scan(title: &str) -> (Persona, String) {
        if title.trim().is_empty() {
            return (Persona::Unknown, "no job title to classify".to_owned());
        }
        let lower = title.to_lowercase();
        let words: Vec<&str> = words(&lower).collect();
        for (phrases, persona, reason) in TITLE_RULES {
            if let Some(hit) = find_phrase(&words, phrases) {
                return (persona, format!("{reason} (title word \"{hit}\")"));
            }
        }
        (
            Persona::Unknown,
            "the job title matches no persona rule".to_owned(),
        )
    }

    fn classify_title(title: &str) -> (Persona, String) {
        let v = run(Some(title), Some("x.io"), Some("x.io"));
        (v.persona, v.reason)
    }

    #[test]
    fn the_title_index_gives_what_the_plain_scan_gives() {
        let mut titles: Vec<String> = [
            "VP Engineering",
            "engineering manager",
            "Senior Software Engineer",
            "Head of Data",
            "Student",
            "CTO & Co-Founder",
            "Marketing Specialist",
            "Executive Assistant to the CEO, looking for new opportunities",
            "Lead Engineer and Manager, Research Analyst",
            "Manager, Senior Director",
            "Doctoral researcher",
            "POSTDOCTORAL fellow",
            "Director / Director",
            "assistant vice president vice president",
            "looking for new roles, looking for opportunities",
            "Ingénieur Développement",
            "ÉTUDIANT — Student",
            "Geschäftsführer",
            "c level c suite",
            "x",
        ]
        .iter()
        .map(|t| (*t).to_owned())
        .collect();
        // every phrase alone, after a word, and two phrases in both orders
        let all: Vec<String> = TITLE_RULES
            .iter()
            .flat_map(|(phrases, _, _)| phrases.iter())
            .map(|p| {
                p.iter()
                    .map(|w| w.replace('*', "ies"))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        for (i, a) in all.iter().enumerate() {
            titles.push(a.to_uppercase());
            titles.push(format!("senior {a}"));
            let b = &all[(i * 7 + 3) % all.len()];
            titles.push(format!("{a}, {b}"));
            titles.push(format!("{b} - {a}"));
        }
        for title in &titles {
            assert_eq!(
                classify_title(title),
                classify_title_by_scan(title),
                "{title:?}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn the_title_index_agrees_with_the_scan_on_any_mix_of_title_words(
            picks in proptest::collection::vec((0usize..400, 0usize..6), 0..7)
        ) {
            let vocabulary: Vec<&str> = TITLE_RULES
                .iter()
                .flat_map(|(phrases, _, _)| phrases.iter().flat_map(|p| p.iter()))
                .copied()
                .collect();
            let separators = [" ", ", ", "-", " & ", "/", "  "];
            let mut title = String::new();
            for (word, sep) in picks {
                let w = vocabulary[word % vocabulary.len()];
                title.push_str(&w.replace('*', "ship"));
                title.push_str(separators[sep]);
            }
            proptest::prop_assert_eq!(classify_title(&title), classify_title_by_scan(&title));
        }
    }

    #[test]
    fn no_analyst_firm_is_under_another() {
        for a in ANALYST_FIRMS {
            for b in ANALYST_FIRMS {
                assert!(a == b || !domain_is_under(a, b), "{a} {b}");
            }
        }
        for (domain, want) in [
            ("gartner.com", Some("gartner.com")),
            ("eu.research.gartner.com", Some("gartner.com")),
            ("notgartner.com", None),
            ("com", None),
            ("", None),
            (".idc.com", Some("idc.com")),
        ] {
            let scan = ANALYST_FIRMS
                .iter()
                .copied()
                .find(|f| domain_is_under(domain, f));
            assert_eq!(analyst_firm(domain), want, "{domain}");
            assert_eq!(scan, want, "{domain}");
        }
    }

    #[test]
    fn academic_domains_without_a_label_list_as_before() {
        fn by_list(domain: &str) -> bool {
            let labels: Vec<&str> = domain.split('.').collect();
            let n = labels.len();
            if n >= 2 && labels[n - 1] == "edu" {
                return true;
            }
            if n >= 3 && matches!(labels[n - 2], "edu" | "ac") && labels[n - 1].len() == 2 {
                return true;
            }
            labels[..n.saturating_sub(1)].iter().any(|l| {
                l.contains("universit")
                    || l.starts_with("univ-")
                    || l.starts_with("uni-")
                    || *l == "uni"
            })
        }
        for d in [
            "",
            "edu",
            "uni",
            "uni.de",
            "x.uni",
            "stanford.edu",
            "edu.au",
            "unimelb.edu.au",
            "cs.ox.ac.uk",
            "ac.uk",
            "x.ac.com",
            "uni-heidelberg.de",
            "univ-lyon1.fr",
            "universite-paris.fr",
            "universal-robots.com",
            "a..edu",
            ".",
            "..",
            "a.b.c.d",
            "x.edu.museum",
            "university",
            "x.university",
        ] {
            assert_eq!(is_academic_domain(d), by_list(d), "{d:?}");
        }
    }

    #[test]
    fn reasons_are_plain_words() {
        let v = run(
            Some("VP Engineering"),
            Some("northwind.io"),
            Some("northwind.io"),
        );
        assert_eq!(v.reason, "executive or decision maker (title word \"vp\")");
        let v = run(None, None, None);
        assert_eq!(v.reason, "no job title to classify");
    }
}
