//! Small, fully populated example events: fixtures for tests, benches and docs across the workspace.

use std::collections::BTreeMap;

use crate::model::*;
use crate::time::Timestamp;

/// 2026-11-20T09:30:00Z, a Friday morning in Paris.
pub const T0: Timestamp = Timestamp(1_795_167_000_000);

/// A hot chat lead: VP Engineering at a mid-size software company who confirmed problem, authority and
/// timing fit.
pub fn lead_event() -> LeadEvent {
    LeadEvent {
        event_id: "evt-0001".into(),
        lead_id: "lead-0001".into(),
        account_domain: Some("northwind.io".into()),
        source_system: "website_chat".into(),
        source_record_id: "chat-8812".into(),
        occurred_at: T0,
        event_type: LeadEventType::ChatConversation,
        contact: Contact {
            email: Some("ada.lovelace@northwind.io".into()),
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            phone: Some("+33 1 23 45 67 89".into()),
            title: Some("VP Engineering".into()),
            department: Some("Engineering".into()),
            country: Some("FR".into()),
        },
        company: Company {
            name: Some("Northwind".into()),
            domain: Some("northwind.io".into()),
            industry: Some("Software".into()),
            employee_count: Some(420),
            annual_revenue_usd: Some(60_000_000),
            country: Some("FR".into()),
        },
        activities: vec![
            Activity {
                kind: ActivityKind::PricingPageView,
                occurred_at: Timestamp(T0.0 - 3_600_000),
                detail: Some("/pricing".into()),
            },
            Activity {
                kind: ActivityKind::DemoRequest,
                occurred_at: Timestamp(T0.0 - 600_000),
                detail: None,
            },
        ],
        chat: Some(ChatSignals {
            human_requested: false,
            out_of_scope: None,
            stalled: false,
            frustrated: false,
            exchange_count: 5,
            qualification: Qualification {
                problem: DimensionSignal {
                    confirmed: true,
                    confidence: 0.92,
                },
                authority: DimensionSignal {
                    confirmed: true,
                    confidence: 0.88,
                },
                company: DimensionSignal {
                    confirmed: false,
                    confidence: 0.4,
                },
                timing: DimensionSignal {
                    confirmed: true,
                    confidence: 0.85,
                },
            },
            summary: Some(
                "Rebuilding their data platform; team of 12; wants to move this quarter.".into(),
            ),
            initiative: Some("data platform rebuild".into()),
            proposal_made: Some(true),
            short_answer_streak: 0,
            repeated_question: false,
            topic: Some("data-platform".into()),
        }),
        session: Some(VisitorSession {
            session_id: Some("s-77".into()),
            page_url: Some("https://example.com/pricing".into()),
            platform: Some("web-desktop".into()),
            timezone: Some("Europe/Paris".into()),
            started_at: Some(Timestamp(T0.0 - 900_000)),
        }),
        attributes: BTreeMap::from([("utm_source".to_owned(), "newsletter".to_owned())]),
    }
}

pub fn enriched_lead() -> EnrichedLead {
    EnrichedLead {
        lead: lead_event(),
        enriched_at: T0,
        account_key: "northwind.io".into(),
        email_domain: Some("northwind.io".into()),
        free_mail: false,
        company_domain: Some("northwind.io".into()),
        enrichment: EnrichmentStatus::Enriched,
        firmographics: Some(Firmographics {
            provider: "local-dataset".into(),
            industry: Some("software".into()),
            employee_band: Some("201-1000".into()),
            revenue_band: Some("50M-250M".into()),
            country: Some("FR".into()),
        }),
        persona: Persona::P1,
        persona_reason: "VP-level title in engineering".into(),
        is_update: false,
        previous_event_id: None,
        quality_warnings: vec![],
    }
}

pub fn scored_lead() -> ScoredLead {
    ScoredLead {
        enriched: enriched_lead(),
        score: 91,
        fit: 34.0,
        intent: 31.5,
        qualification: 28.0,
        negative: 0.0,
        confidence: 0.9,
        factors: vec![ScoreFactor {
            code: "activity.DEMO_REQUEST".into(),
            points: 18.0,
            explanation: "Requested a demo 10 minutes before".into(),
        }],
        model_version: "default-1".into(),
        scored_at: T0,
    }
}

pub fn tier_decision() -> TierDecision {
    TierDecision {
        scored: scored_lead(),
        tier: "HOT".into(),
        lead_level: LeadLevel::Hot,
        handoff: HandoffKind::Escalation,
        trigger: HandoffTrigger::HotLead,
        target_team: "ae".into(),
        within_business_hours: true,
        sla: vec![SlaDeadline {
            kind: SlaKind::FirstContact,
            due_at: Timestamp(T0.0 + 300_000),
        }],
        commitment: None,
        recommended_resource: None,
        reasons: vec!["problem + authority + timing confirmed".into()],
        policy_version: "four-band@1".into(),
        model_version: "default-1".into(),
        decided_at: T0,
    }
}

pub fn handoff_packet() -> HandoffPacket {
    HandoffPacket {
        packet_id: "pkt-0d6f3a1b2c4e5f60".into(),
        idempotency_key: "lead-0001|evt-0001|HOT|HOT_LEAD|0".into(),
        decision: tier_decision(),
        assignee: Some(Assignee {
            rep_id: "rep-ae-01".into(),
            name: "Grace Hopper".into(),
            email: "grace.hopper@example.com".into(),
            team: "ae".into(),
            role: "ae".into(),
            slack_user_id: Some("U123".into()),
            crm_owner_id: Some("90001".into()),
        }),
        manager_cc: None,
        previous_assignee: None,
        assignment_reason: "least loaded eligible rep in ae (0 open leads)".into(),
        unassigned_reason: None,
        escalation_level: 0,
        summary: "Ada Lovelace (VP Engineering, Northwind) chatted with us for 5 exchanges. \
                  Rebuilding their data platform; team of 12; wants to move this quarter. \
                  Confirmed: problem, authority, timing."
            .into(),
        qualification: vec![
            QualificationDimension {
                dimension: "problem".into(),
                confirmed: true,
                confidence: 0.92,
            },
            QualificationDimension {
                dimension: "authority".into(),
                confirmed: true,
                confidence: 0.88,
            },
            QualificationDimension {
                dimension: "company".into(),
                confirmed: false,
                confidence: 0.4,
            },
            QualificationDimension {
                dimension: "timing".into(),
                confirmed: true,
                confidence: 0.85,
            },
        ],
        visitor: VisitorData {
            email: Some("ada.lovelace@northwind.io".into()),
            name: Some("Ada Lovelace".into()),
            company: Some("Northwind".into()),
            title: Some("VP Engineering".into()),
            phone: Some("+33 1 23 45 67 89".into()),
            country: Some("FR".into()),
        },
        session: SessionData {
            platform: Some("web-desktop".into()),
            page: Some("https://example.com/pricing".into()),
            started_at: Some(Timestamp(T0.0 - 900_000)),
        },
        top_factors: vec!["Requested a demo 10 minutes before (+18)".into()],
        next_step: "Call within 5 minutes; offer the booking link.".into(),
        recommended_resource: Some(ResourceLink {
            topic: "data-platform".into(),
            title: "Data platform migration guide".into(),
            url: "https://example.com/guides/data-platform".into(),
        }),
        booking_link: Some("https://cal.example.com/intro".into()),
        commitment: None,
        sla: vec![SlaDeadline {
            kind: SlaKind::FirstContact,
            due_at: Timestamp(T0.0 + 300_000),
        }],
        priority: 91,
        created_at: T0,
        withdraws: None,
        committee: None,
    }
}

/// The sample packet as the second person of its account: the committee map with both people and
/// the update of the account's card.
pub fn committee_packet() -> HandoffPacket {
    let mut p = handoff_packet();
    let owner = p.assignee.clone();
    p.committee = Some(Committee {
        account_key: "northwind.io".into(),
        owner: owner.clone(),
        total: 2,
        members: vec![
            CommitteeMember {
                lead_id: "lead-0000".into(),
                name: Some("Ana Lopez".into()),
                title: Some("Data Engineering Manager".into()),
                persona: "P2".into(),
                role: "champion".into(),
                score: 72,
                tier: "WARM".into(),
                status: "CONTACTED".into(),
                owner_rep_id: owner.as_ref().map(|a| a.rep_id.clone()),
            },
            CommitteeMember {
                lead_id: "lead-0001".into(),
                name: Some("Jane Doe".into()),
                title: Some("VP Data".into()),
                persona: "P1".into(),
                role: "economic_buyer".into(),
                score: 91,
                tier: "HOT".into(),
                status: "HANDED_OFF".into(),
                owner_rep_id: owner.as_ref().map(|a| a.rep_id.clone()),
            },
        ],
        summary: vec![CommitteeCount {
            dimension: "persona".into(),
            value: "P1".into(),
            count: 1,
        }],
        engagement_order: vec!["lead-0000".into(), "lead-0001".into()],
        strategy: "Start with the champion, Ana Lopez, then involve the economic buyer, Jane Doe."
            .into(),
        updates_card: Some("pkt-card-0000".into()),
        card_key: Some("lead-0000|evt-0000|WARM|SCORE_BAND|0".into()),
    });
    p
}

/// An available AE covering France and mid-size companies, Paris office hours.
pub fn rep_state() -> RepState {
    RepState {
        rep_id: "rep-ae-01".into(),
        name: "Grace Hopper".into(),
        email: "grace.hopper@example.com".into(),
        slack_user_id: Some("U123".into()),
        crm_owner_id: Some("90001".into()),
        role: RepRole::Ae,
        teams: vec!["ae".into()],
        territories: vec!["FR".into(), "EMEA".into()],
        segments: vec!["201-1000".into(), "1001-5000".into()],
        max_open_leads: 8,
        working_hours: Some(WorkingHours::office("Europe/Paris")),
        status: RepStatus::OutOfOffice,
        status_until: Some(Timestamp(T0.0 + 86_400_000)),
        manager_id: Some("rep-mgr-01".into()),
        updated_at: T0,
    }
}

pub fn delivery_receipt() -> DeliveryReceipt {
    DeliveryReceipt {
        receipt_id: "rcpt-1".into(),
        packet_id: "pkt-evt-0001".into(),
        lead_id: "lead-0001".into(),
        channel: DeliveryChannel::Slack,
        status: DeliveryStatus::Delivered,
        attempts: 1,
        external_id: Some("1763631000.000100".into()),
        error: None,
        delivered_at: T0,
        idempotency_key: Some("pkt-evt-0001".into()),
        fallback_for: vec![],
        remote_url: None,
        latency_ms: Some(180),
    }
}

pub fn rep_activity() -> RepActivity {
    RepActivity {
        activity_id: "act-1".into(),
        lead_id: "lead-0001".into(),
        packet_id: Some("pkt-evt-0001".into()),
        rep_id: "rep-1".into(),
        kind: RepActivityKind::Rejected,
        reason: Some("not_a_fit".into()),
        reassigned_to: None,
        occurred_at: T0,
    }
}

pub fn sla_escalation() -> SlaEscalation {
    SlaEscalation {
        escalation_id: "esc-1".into(),
        lead_id: "lead-0001".into(),
        packet_id: "pkt-evt-0001".into(),
        sla_kind: SlaKind::FirstContact,
        due_at: T0,
        escalated_at: Timestamp(T0.0 + 1),
        level: 1,
        from_rep_id: Some("rep-1".into()),
        to: "manager-1".into(),
        reason: "first contact SLA missed".into(),
        target_team: Some("ae".into()),
        tier: Some("HOT".into()),
        late_by_ms: Some(1),
    }
}

pub fn sla_outcome() -> SlaOutcome {
    SlaOutcome {
        outcome_id: "pkt-evt-0001:first_contact:ESCALATED".into(),
        lead_id: "lead-0001".into(),
        packet_id: "pkt-evt-0001".into(),
        sla_kind: SlaKind::FirstContact,
        outcome: SlaOutcomeKind::Escalated,
        breach: true,
        owner: Some("rep-1".into()),
        tier: "HOT".into(),
        target_team: Some("ae".into()),
        level: 1,
        due_at: T0,
        decided_at: Timestamp(T0.0 + 1),
        event_at: None,
        escalation_id: Some("pkt-evt-0001:first_contact:L1".into()),
    }
}

pub fn lead_outcome() -> LeadOutcome {
    LeadOutcome {
        outcome_id: "out-1".into(),
        lead_id: "lead-0001".into(),
        account_key: Some("northwind.io".into()),
        stage: OutcomeStage::ClosedWon,
        amount: Some(48_000.0),
        currency: Some("EUR".into()),
        reason: None,
        model_version: Some("default-1".into()),
        occurred_at: T0,
    }
}

pub fn model_params() -> ModelParams {
    ModelParams {
        model: "lead-priority".into(),
        version: "default-1".into(),
        parent_version: None,
        created_at: T0,
        description: "sample".into(),
        weights: BTreeMap::from([("seniority.vp".to_owned(), 12.0)]),
        intent_half_life_days: 14.0,
        fit_max: 40.0,
        intent_max: 40.0,
        qualification_max: 30.0,
        status: String::new(),
        training_from: None,
        training_to: None,
        metrics: BTreeMap::new(),
    }
}

pub fn exception_record() -> ExceptionRecord {
    ExceptionRecord {
        exception_id: "exc-1".into(),
        stage: "enrich".into(),
        source_topic: "leads.raw".into(),
        source_partition: 0,
        source_offset: 42,
        source_key: Some("lead-0001".into()),
        error_kind: ErrorKind::Decode,
        reason: "truncated".into(),
        owner: "revops".into(),
        lead_id: None,
        raised_at: T0,
        due_at: Timestamp(T0.0 + 86_400_000),
        original: vec![0xC3, 0x01, 0x02],
    }
}

pub fn exception_state() -> ExceptionState {
    let target = ReplayTarget {
        topic: "leads.raw".into(),
        partition: 1,
        offset: 77,
    };
    ExceptionState {
        exception_id: "enrich:leads.raw:0:42".into(),
        status: ExceptionStatus::Replayed,
        owner: "revops".into(),
        due_at: Timestamp(T0.0 + 3_600_000),
        escalation_level: 0,
        updated_at: Timestamp(T0.0 + 60_000),
        replay_targets: vec![target.clone()],
        history: vec![
            ExceptionAction {
                action: ExceptionActionKind::Opened,
                actor: "enrich".into(),
                reason: Some("truncated".into()),
                at: T0,
                owner: "revops".into(),
                due_at: Timestamp(T0.0 + 86_400_000),
                target: None,
                edited: false,
            },
            ExceptionAction {
                action: ExceptionActionKind::Replayed,
                actor: "ops-ana".into(),
                reason: Some("fixed the email".into()),
                at: Timestamp(T0.0 + 60_000),
                owner: "revops".into(),
                due_at: Timestamp(T0.0 + 3_600_000),
                target: Some(target),
                edited: true,
            },
        ],
    }
}

/// The dedup changelog record of [`enriched_lead`] (hashes of `lead-0001` and
/// `ada.lovelace@northwind.io`, as the enrich stage computes them).
pub fn dedup_key() -> DedupKey {
    DedupKey {
        event_id: "evt-0001".into(),
        lead_hash: [
            0x18, 0x87, 0xcd, 0x19, 0xa2, 0x50, 0x68, 0xfd, 0x66, 0x7f, 0x2b, 0xa9, 0xe8, 0x37,
            0x4b, 0x19,
        ],
        email_hash: Some([
            0x2e, 0x78, 0xd9, 0xcc, 0x95, 0x6b, 0xe0, 0xc9, 0xb3, 0x72, 0x5a, 0xff, 0xd9, 0x7c,
            0x08, 0xf0,
        ]),
        occurred_at: T0,
        previous_event_id: Some("evt-0000".into()),
        input_partition: 2,
        input_offset: 1_234,
    }
}

/// A changelog record holding [`dedup_key`] and a second, new lead without an email.
pub fn dedup_key_batch() -> DedupKeyBatch {
    let second = DedupKey {
        event_id: "evt-0002".into(),
        lead_hash: [7; 16],
        email_hash: None,
        occurred_at: T0,
        previous_event_id: None,
        input_partition: 0,
        input_offset: 17,
    };
    DedupKeyBatch {
        keys: vec![dedup_key(), second],
    }
}
