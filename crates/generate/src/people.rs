//! Synthetic people: personas with their titles and departments, names, emails, phones, timezones.

use leadflow_events::Persona;
use rand::Rng;

use super::pick::{Rng as GenRng, chance, pick, weighted};

/// Who a synthetic lead is, as designed by the generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SyntheticPersona {
    /// C-level, VP, head of: decision makers (P1).
    Executive,
    /// Directors and managers: evaluators with budget influence (P2).
    Manager,
    /// Individual contributors and users (P3).
    Practitioner,
    /// Someone from a competitor's domain (N1).
    Competitor,
    /// A student on a `.edu` address (N2).
    Student,
    /// An industry analyst at gartner.com / forrester.com (N2).
    Analyst,
    /// A job seeker on a free-mail address, "Open to work" (N2).
    JobSeeker,
    /// A business person writing from a personal mailbox; no company domain to enrich.
    FreeMail,
}

impl SyntheticPersona {
    pub const ALL: [SyntheticPersona; 8] = [
        SyntheticPersona::Executive,
        SyntheticPersona::Manager,
        SyntheticPersona::Practitioner,
        SyntheticPersona::Competitor,
        SyntheticPersona::Student,
        SyntheticPersona::Analyst,
        SyntheticPersona::JobSeeker,
        SyntheticPersona::FreeMail,
    ];

    /// Percent of new leads drawn as this persona (the weights sum to 100).
    pub fn share_percent(self) -> u32 {
        match self {
            SyntheticPersona::Executive => 13,
            SyntheticPersona::Manager => 24,
            SyntheticPersona::Practitioner => 32,
            SyntheticPersona::Competitor => 5,
            SyntheticPersona::Student => 5,
            SyntheticPersona::Analyst => 3,
            SyntheticPersona::JobSeeker => 5,
            SyntheticPersona::FreeMail => 13,
        }
    }

    /// The persona class (P1-P3, N1 competitor, N2 researcher; crates/tier/POLICY.md) the lead was designed as (free-mail leads have no company to judge).
    pub fn designed_as(self) -> Persona {
        match self {
            SyntheticPersona::Executive => Persona::P1,
            SyntheticPersona::Manager => Persona::P2,
            SyntheticPersona::Practitioner => Persona::P3,
            SyntheticPersona::Competitor => Persona::N1,
            SyntheticPersona::Student | SyntheticPersona::Analyst | SyntheticPersona::JobSeeker => {
                Persona::N2
            }
            SyntheticPersona::FreeMail => Persona::Unknown,
        }
    }

    /// Whether the lead works at a prospect company (dataset or invented).
    pub fn is_business(self) -> bool {
        matches!(
            self,
            SyntheticPersona::Executive
                | SyntheticPersona::Manager
                | SyntheticPersona::Practitioner
        )
    }

    /// Draws a persona with the designed shares.
    pub fn draw(rng: &mut GenRng) -> Self {
        let weights: Vec<(SyntheticPersona, u32)> =
            Self::ALL.iter().map(|p| (*p, p.share_percent())).collect();
        weighted(rng, &weights)
    }

    /// A job title and department typical of the persona.
    pub fn title(self, rng: &mut GenRng) -> (&'static str, Option<&'static str>) {
        let titles: &[(&str, Option<&str>)] = match self {
            SyntheticPersona::Executive => &[
                ("CEO", Some("Executive")),
                ("Chief Revenue Officer", Some("Sales")),
                ("CTO", Some("Engineering")),
                ("VP Sales", Some("Sales")),
                ("VP Marketing", Some("Marketing")),
                ("VP Revenue Operations", Some("Revenue Operations")),
                ("VP Engineering", Some("Engineering")),
                ("Head of Growth", Some("Marketing")),
                ("Head of Sales", Some("Sales")),
                ("Chief Operating Officer", Some("Operations")),
                ("Co-Founder", Some("Executive")),
            ],
            SyntheticPersona::Manager => &[
                ("Sales Director", Some("Sales")),
                ("Director of Demand Generation", Some("Marketing")),
                ("Revenue Operations Manager", Some("Revenue Operations")),
                ("Marketing Operations Manager", Some("Marketing")),
                ("SDR Manager", Some("Sales")),
                ("Director of Sales Operations", Some("Sales")),
                ("IT Manager", Some("IT")),
                ("Customer Success Director", Some("Customer Success")),
                ("Engineering Manager", Some("Engineering")),
            ],
            SyntheticPersona::Practitioner => &[
                ("Sales Development Representative", Some("Sales")),
                ("Account Executive", Some("Sales")),
                ("Marketing Specialist", Some("Marketing")),
                ("Data Analyst", Some("Operations")),
                ("Software Engineer", Some("Engineering")),
                ("CRM Administrator", Some("Revenue Operations")),
                ("Growth Marketer", Some("Marketing")),
                ("Business Analyst", Some("Operations")),
                ("Solutions Consultant", Some("Sales")),
                ("Marketing Coordinator", Some("Marketing")),
            ],
            SyntheticPersona::Competitor => &[
                ("Product Marketing Manager", Some("Marketing")),
                ("Competitive Intelligence Analyst", Some("Marketing")),
                ("Solutions Engineer", Some("Sales")),
                ("VP Product", Some("Product")),
                ("Account Executive", Some("Sales")),
                ("Co-Founder", Some("Executive")),
            ],
            SyntheticPersona::Student => &[
                ("Student", None),
                ("MBA Candidate", None),
                ("PhD Student", Some("Research")),
                ("Graduate Research Assistant", Some("Research")),
                ("Undergraduate Student", None),
            ],
            SyntheticPersona::Analyst => &[
                ("Senior Analyst", Some("Research")),
                ("Research Director", Some("Research")),
                ("VP Analyst", Some("Research")),
                ("Principal Analyst", Some("Research")),
            ],
            SyntheticPersona::JobSeeker => &[
                ("Open to work", None),
                ("Seeking new opportunities", None),
                ("Looking for SDR roles", None),
                ("Former Account Executive | Open to work", None),
                ("Job seeker", None),
            ],
            SyntheticPersona::FreeMail => &[
                ("Founder", Some("Executive")),
                ("Owner", Some("Executive")),
                ("Consultant", None),
                ("Marketing Manager", Some("Marketing")),
                ("Sales Lead", Some("Sales")),
                ("Freelance Marketer", Some("Marketing")),
                ("Office Manager", Some("Operations")),
            ],
        };
        *pick(rng, titles)
    }
}

const FIRST_NAMES: [&str; 48] = [
    "Ada",
    "Alan",
    "Amara",
    "Anna",
    "Arjun",
    "Beatriz",
    "Ben",
    "Carla",
    "Chen",
    "Chloe",
    "Daniel",
    "Dmitri",
    "Elena",
    "Emma",
    "Fatima",
    "Felix",
    "Grace",
    "Hana",
    "Hugo",
    "Ines",
    "Ivan",
    "James",
    "Jonas",
    "Julia",
    "Kenji",
    "Laura",
    "Leila",
    "Liam",
    "Lucas",
    "Maria",
    "Mateo",
    "Mei",
    "Nadia",
    "Noah",
    "Olivia",
    "Omar",
    "Priya",
    "Rafael",
    "Sara",
    "Sofia",
    "Tariq",
    "Theo",
    "Valentina",
    "Wei",
    "Yara",
    "Yusuf",
    "Zoe",
    "Marek",
];

const LAST_NAMES: [&str; 48] = [
    "Adeyemi",
    "Andersson",
    "Bauer",
    "Becker",
    "Bianchi",
    "Brown",
    "Chen",
    "Costa",
    "Dubois",
    "Fischer",
    "Garcia",
    "Gupta",
    "Hansen",
    "Hoffmann",
    "Ito",
    "Jansen",
    "Johnson",
    "Kim",
    "Kowalski",
    "Kumar",
    "Laurent",
    "Lee",
    "Lopez",
    "Martin",
    "Meyer",
    "Moreau",
    "Murphy",
    "Nakamura",
    "Nguyen",
    "Novak",
    "OBrien",
    "Okafor",
    "Patel",
    "Petrov",
    "Rossi",
    "Schmidt",
    "Silva",
    "Singh",
    "Smith",
    "Tanaka",
    "Taylor",
    "Virtanen",
    "Wagner",
    "Walker",
    "Wang",
    "Weber",
    "Williams",
    "Yilmaz",
];

/// A first and last name.
pub fn name(rng: &mut GenRng) -> (&'static str, &'static str) {
    (*pick(rng, &FIRST_NAMES), *pick(rng, &LAST_NAMES))
}

/// A work address at `domain` in one of the usual corporate patterns.
pub fn work_email(rng: &mut GenRng, first: &str, last: &str, domain: &str) -> String {
    let (f, l) = (first.to_ascii_lowercase(), last.to_ascii_lowercase());
    let local = match weighted(rng, &[(0, 60), (1, 20), (2, 10), (3, 10)]) {
        0 => format!("{f}.{l}"),
        1 => format!("{}{l}", &f[..1]),
        2 => f,
        _ => format!("{f}_{l}"),
    };
    format!("{local}@{domain}")
}

/// A personal address at a free-mail provider.
pub fn personal_email(rng: &mut GenRng, first: &str, last: &str, domain: &str) -> String {
    let (f, l) = (first.to_ascii_lowercase(), last.to_ascii_lowercase());
    if chance(rng, 0.5) {
        format!("{f}.{l}{}@{domain}", rng.random_range(1..99))
    } else {
        format!("{f}{l}@{domain}")
    }
}

/// A phone number with the country's calling code.
pub fn phone(rng: &mut GenRng, country: &str) -> String {
    let code = match country {
        "US" | "CA" => "+1",
        "GB" => "+44",
        "FR" => "+33",
        "DE" => "+49",
        "NL" => "+31",
        "ES" => "+34",
        "IT" => "+39",
        "SE" => "+46",
        "JP" => "+81",
        "AU" => "+61",
        "IN" => "+91",
        "SG" => "+65",
        "IE" => "+353",
        "CH" => "+41",
        "PL" => "+48",
        "BE" => "+32",
        _ => "+1",
    };
    format!(
        "{code} {} {:03} {:04}",
        rng.random_range(20..99),
        rng.random_range(0..1000),
        rng.random_range(0..10_000)
    )
}

/// An IANA timezone plausible for a company or contact country.
pub fn timezone(rng: &mut GenRng, country: &str) -> &'static str {
    let zones: &[&str] = match country {
        "US" => &[
            "America/New_York",
            "America/New_York",
            "America/Chicago",
            "America/Denver",
            "America/Los_Angeles",
            "America/Los_Angeles",
        ],
        "CA" => &["America/Toronto", "America/Vancouver"],
        "BR" => &["America/Sao_Paulo"],
        "MX" => &["America/Mexico_City"],
        "GB" => &["Europe/London"],
        "IE" => &["Europe/Dublin"],
        "FR" => &["Europe/Paris"],
        "DE" => &["Europe/Berlin"],
        "NL" => &["Europe/Amsterdam"],
        "BE" => &["Europe/Brussels"],
        "LU" => &["Europe/Luxembourg"],
        "ES" => &["Europe/Madrid"],
        "PT" => &["Europe/Lisbon"],
        "IT" => &["Europe/Rome"],
        "CH" => &["Europe/Zurich"],
        "AT" => &["Europe/Vienna"],
        "SE" => &["Europe/Stockholm"],
        "NO" => &["Europe/Oslo"],
        "DK" => &["Europe/Copenhagen"],
        "FI" => &["Europe/Helsinki"],
        "EE" => &["Europe/Tallinn"],
        "LV" => &["Europe/Riga"],
        "LT" => &["Europe/Vilnius"],
        "PL" => &["Europe/Warsaw"],
        "CZ" => &["Europe/Prague"],
        "HU" => &["Europe/Budapest"],
        "RO" => &["Europe/Bucharest"],
        "GR" => &["Europe/Athens"],
        "IL" => &["Asia/Jerusalem"],
        "IN" => &["Asia/Kolkata"],
        "SG" => &["Asia/Singapore"],
        "MY" => &["Asia/Kuala_Lumpur"],
        "ID" => &["Asia/Jakarta"],
        "TH" => &["Asia/Bangkok"],
        "VN" => &["Asia/Ho_Chi_Minh"],
        "PH" => &["Asia/Manila"],
        "HK" => &["Asia/Hong_Kong"],
        "CN" => &["Asia/Shanghai"],
        "TW" => &["Asia/Taipei"],
        "KR" => &["Asia/Seoul"],
        "JP" => &["Asia/Tokyo"],
        "AU" => &["Australia/Sydney", "Australia/Melbourne"],
        "NZ" => &["Pacific/Auckland"],
        _ => &["Europe/London", "America/New_York", "Asia/Singapore"],
    };
    pick::<&str>(rng, zones)
}

/// A country for people without a company country (free-mail leads, job seekers).
pub fn home_country(rng: &mut GenRng) -> &'static str {
    weighted(
        rng,
        &[
            ("US", 35),
            ("GB", 12),
            ("DE", 10),
            ("FR", 9),
            ("IN", 8),
            ("NL", 5),
            ("ES", 5),
            ("CA", 5),
            ("AU", 4),
            ("SG", 3),
            ("JP", 2),
            ("BR", 2),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn shares_sum_to_one_hundred() {
        let total: u32 = SyntheticPersona::ALL
            .iter()
            .map(|p| p.share_percent())
            .sum();
        assert_eq!(total, 100);
    }

    #[test]
    fn designed_persona_classes() {
        let cases = [
            (SyntheticPersona::Executive, Persona::P1),
            (SyntheticPersona::Manager, Persona::P2),
            (SyntheticPersona::Practitioner, Persona::P3),
            (SyntheticPersona::Competitor, Persona::N1),
            (SyntheticPersona::Student, Persona::N2),
            (SyntheticPersona::Analyst, Persona::N2),
            (SyntheticPersona::JobSeeker, Persona::N2),
            (SyntheticPersona::FreeMail, Persona::Unknown),
        ];
        for (synthetic, class) in cases {
            assert_eq!(synthetic.designed_as(), class, "{synthetic:?}");
        }
    }

    #[test]
    fn emails_are_lowercase_ascii_at_the_domain() {
        let mut rng = GenRng::seed_from_u64(9);
        for _ in 0..200 {
            let (f, l) = name(&mut rng);
            let work = work_email(&mut rng, f, l, "northwind.io");
            assert!(work.ends_with("@northwind.io"), "{work}");
            let personal = personal_email(&mut rng, f, l, "gmail.com");
            for e in [&work, &personal] {
                assert!(e.is_ascii() && *e == e.to_ascii_lowercase(), "{e}");
                assert_eq!(e.matches('@').count(), 1, "{e}");
            }
        }
    }

    #[test]
    fn timezones_are_regional() {
        let mut rng = GenRng::seed_from_u64(2);
        let cases = [
            ("FR", "Europe/"),
            ("US", "America/"),
            ("JP", "Asia/"),
            ("IN", "Asia/"),
        ];
        for (country, prefix) in cases {
            assert!(timezone(&mut rng, country).starts_with(prefix), "{country}");
        }
    }
}
