"""Stored assessments for tests, made as the app makes them: created by the service, their
answers saved through the one write path (``saving.save_answers``, as the API's PATCH saves
them), then submitted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from assessment.store import responses
from assessment.store.by_token import TokenStore
from assessment.store.models import Assessment, store_questionnaire_version
from assessment.store.saving import answers_patch, save_answers
from questionnaires.compile import CompiledQuestionnaire

Sessions = async_sessionmaker[AsyncSession]


async def save_as_the_api(sessions: Sessions, token: str, updates: dict) -> responses.Saved:
    """``updates`` saved to the draft ``token`` opens, as the API's PATCH saves them, by a
    TokenStore of its own (another server process, as far as the app can tell)."""
    tokens = await TokenStore.open(sessions.kw["bind"])
    try:
        written = await save_answers(tokens, responses.Versions(sessions), token, answers_patch(updates))
    finally:
        await tokens.close()
    return written.change.saved


async def stored_assessment(
    sessions: Sessions,
    compiled: CompiledQuestionnaire,
    answers: dict | Callable[[dict], dict] | None = None,
    *,
    submit: bool = True,
    previous: int | None = None,
    created_at: datetime | None = None,
    **create,
) -> tuple[int, str]:
    """A new assessment of ``compiled`` and its token: ``create`` are the arguments of
    ``create_assessment`` (or ``previous``, the id of the assessment it repeats, with
    ``share_with_advisors`` as chosen again, by default as before), ``answers``
    its answers (or a function of its company that gives them), submitted unless ``submit``
    is false."""
    async with sessions() as session, session.begin():
        version = await store_questionnaire_version(session, compiled)
        if previous is not None:
            earlier = await session.get(Assessment, previous)
            share = create.get("share_with_advisors", earlier.share_with_advisors)
            assessment, token = await responses.start_reassessment(session, earlier, version, compiled, share_with_advisors=share)
        else:
            assessment, token = await responses.create_assessment(session, version, **create)
        if created_at is not None:
            assessment.created_at = created_at
    if callable(answers):
        answers = answers(responses.company_of(assessment))
    if answers:
        await save_as_the_api(sessions, token, answers)
    if submit:
        async with sessions() as session, session.begin():
            await responses.submit(session, await responses.open_assessment(session, token), compiled)
    return assessment.id, token


# --- Answers to the EDIH DMA questions of the bundled questionnaires (modules/digital.yaml) ---

Q1_ROWS = ("product_service_design", "project_planning", "operations", "collaboration", "inbound_logistics",
           "marketing_sales", "delivery", "administration", "procurement", "security_compliance")
Q2 = ("needs_identified", "financial_resources", "ict_infrastructure", "ict_specialists", "management_ready",
      "departments_ready", "processes_adaptable", "servitization", "customer_satisfaction", "risk_evaluation")
Q7 = ("data_governance", "digital_storage", "data_integration", "real_time_access", "systematic_analysis",
      "external_enrichment", "self_service_analytics")

# Every DMA question at its best answer, and at its worst.
ALL_MAXIMUM = {
    "dma_q1": {row: ["already_invested", "plan_to_invest"] for row in Q1_ROWS},
    "dma_q2": list(Q2),
    "dma_q3": ["connectivity_infrastructure", "company_website", "web_forms_blogs", "live_chat_social", "e_commerce",
               "e_marketing", "e_government", "remote_collaboration", "intranet", "management_systems"],
    "dma_q4": {row: 5 for row in ("simulation_digital_twins", "vr_ar", "cad_cam", "manufacturing_execution", "iot_iiot",
                                  "blockchain", "additive_manufacturing")},
    "dma_q5": ["skills_assessment", "training_plan", "short_training", "experiential_learning", "internships",
               "external_training", "subsidized_training"],
    "dma_q6": ["awareness", "transparent_communication", "monitor_acceptance", "involve_employees", "autonomy_tools",
               "adapt_jobs", "flexible_work", "support_team"],
    "dma_q7": list(Q7),
    "dma_q8": ["security_policies", "customer_data_protection", "security_training", "threat_monitoring",
               "backup_maintained", "business_continuity"],
    "dma_q9": {row: 5 for row in ("nlp", "computer_vision", "speech_processing", "robotics", "business_intelligence")},
    "dma_q10": ["sustainable_business_model", "sustainable_services", "sustainable_products", "sustainable_production",
                "emissions_management", "sustainable_energy", "material_optimization", "transport_reduction",
                "responsible_consumption", "paperless_processes"],
    "dma_q11": {row: "yes" for row in ("environmental_strategy", "environmental_management", "procurement_criteria",
                                       "energy_monitoring", "equipment_recycling")},
}
ALL_ZERO = {
    "dma_q1": {row: [] for row in Q1_ROWS},
    "dma_q2": ["none"],
    "dma_q3": ["none"],
    "dma_q4": dict.fromkeys(ALL_MAXIMUM["dma_q4"], 0),
    "dma_q5": ["none"],
    "dma_q6": ["none"],
    "dma_q7": ["no_digital_collection"],
    "dma_q8": ["none"],
    "dma_q9": dict.fromkeys(ALL_MAXIMUM["dma_q9"], 0),
    "dma_q10": ["none"],
    "dma_q11": dict.fromkeys(ALL_MAXIMUM["dma_q11"], "no"),
}
