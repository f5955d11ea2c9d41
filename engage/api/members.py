"""Members: enrol, read, change, erase, export; their ledger."""

from __future__ import annotations

from flask import Response, jsonify, stream_with_context
from flask.views import MethodView
from sqlalchemy import select

from engage import state
from engage.api import pagination
from engage.api.auth import requires
from engage.api.export_schemas import SECTION_SCHEMAS, ExportedMemberSchema, MemberExportSchema
from engage.api.json_stream import json_object
from engage.api.parser import Blueprint
from engage.api.schemas import (
    LedgerPageSchema,
    MemberCreateSchema,
    MemberListQuery,
    MemberPageSchema,
    MemberPatchSchema,
    MemberSchema,
    PageQuery,
)
from engage.models import LedgerEntry, Member
from engage.services import erasure, member_export, members
from engage.store import members as member_reads

blp = Blueprint("members", __name__, url_prefix="/api/v1/members", description="Loyalty members")
# One answer or the other, never both: each schema refuses the other's properties. (flask-smorest
# documents one schema per status and serialises none when the view answers a Response.)
MEMBER_OR_PAGE = {"oneOf": [{"$ref": "#/components/schemas/Member"}, {"$ref": "#/components/schemas/MemberPage"}]}


def member_json(member: Member, view=None, summary: dict | None = None) -> dict:
    """The member as the API shows it: contact, consent, points, tier and what comes next.

    `summary`: the member's points part, when it was read with others (a page)."""
    session = state.session()
    body = {
        "id": member.id, "external_id": member.external_id, "first_name": member.first_name,
        "last_name": member.last_name, "email": member.email, "phone": member.phone,
        "locale": member.locale, "timezone": member.timezone,
        "consent": {"sms": member.sms_consent, "email": member.email_consent},
        "opted_out": {"sms": member.sms_opted_out, "email": member.email_opted_out},
        "referral_code": member.referral_code, "created_at": member.created_at,
    }
    body.update(summary if summary is not None else member_reads.summary(session, member, state.now(), view))
    return body


@blp.route("")
class MemberCollection(MethodView):
    @requires("integration")
    @blp.arguments(MemberCreateSchema())
    @blp.response(201, MemberSchema)
    @blp.alt_response(409, description="external_id already enrolled")
    def post(self, data):
        """Enrol a member (signup bonus, referral reward, welcome flow)."""
        member = members.enrol(state.session(), data, state.now())
        return member_json(member)

    @requires("integration")
    @blp.arguments(MemberListQuery(), location="query")
    @blp.response(200, MEMBER_OR_PAGE, description="with external_id: that member; without: a page of members")
    def get(self, query):
        """Find a member by external_id (→ the member), or list members (→ a page)."""
        session = state.session()
        if "external_id" in query:
            member = member_json(member_reads.by_external_id(session, query["external_id"]))
            return jsonify(MemberSchema().dump(member))
        stmt = select(Member).where(Member.erased_at.is_(None))
        rows, cursor = pagination.page(session, stmt, Member.id, query["limit"], query.get("cursor"))
        summaries = member_reads.summaries(session, rows, state.now())
        items = [member_json(member, summary=summaries[member.id]) for member in rows]
        return jsonify(MemberPageSchema().dump({"items": items, "next": cursor}))


@blp.route("/<int:member_id>")
class MemberItem(MethodView):
    @requires("integration")
    @blp.response(200, MemberSchema)
    def get(self, member_id):
        """Read a member with points, tier, next tier and next expiry."""
        return member_json(member_reads.get(state.session(), member_id))

    @requires("integration")
    @blp.arguments(MemberPatchSchema())
    @blp.response(200, MemberSchema)
    def patch(self, data, member_id):
        """Change contact details, consent, locale or time zone."""
        member = members.update_member(state.session(), member_id, data, state.now())
        return member_json(member)

    @requires("integration")
    @blp.response(204)
    def delete(self, member_id):
        """Erase personal data (GDPR); the anonymised ledger stays.

        Contact details, names, external_id, message contents and addresses, feedback texts and
        the member's Idempotency-Keys go; an opt-out stays in force as a hashed suppression. The
        member is 404 afterwards; its ledger, messages and export still answer."""
        erasure.erase(state.session(), member_id, state.now())


@blp.route("/<int:member_id>/export")
class MemberExport(MethodView):
    @requires("integration")
    @blp.response(200, MemberExportSchema)
    def get(self, member_id):
        """Everything held about the member (GDPR access request), erased or not, as one JSON document.

        Profile, consent history, suppressions, ledger, lots, events, redemptions, feedback,
        Idempotency-Keys and every message in and out; lists oldest first and complete. The
        integration role, as for reading and erasing members: the shop answers its customers'
        requests, and that key can already read each part."""
        session = state.session()
        member = member_export.member(session, member_id)
        profile = {**member_json(member), "referred_by_id": member.referred_by_id, "erased_at": member.erased_at}
        head = {"exported_at": MemberExportSchema().dump({"exported_at": state.now()})["exported_at"],
                "member": ExportedMemberSchema().dump(profile)}
        lists = ((name, SECTION_SCHEMAS[name], batches) for name, batches in member_export.sections(session, member))
        return Response(stream_with_context(json_object(head, lists)), mimetype="application/json", headers={
            "Content-Disposition": f'attachment; filename="member-{member_id}-export.json"'})


@blp.route("/<int:member_id>/ledger")
class MemberLedger(MethodView):
    @requires("integration")
    @blp.arguments(PageQuery(), location="query")
    @blp.response(200, LedgerPageSchema)
    def get(self, query, member_id):
        """The member's ledger entries, newest first (an erased member's too: it stays, anonymised)."""
        session = state.session()
        member_reads.known(session, member_id)
        stmt = select(LedgerEntry).where(LedgerEntry.member_id == member_id)
        rows, cursor = pagination.page(session, stmt, LedgerEntry.id, query["limit"], query.get("cursor"))
        return {"items": rows, "next": cursor}
