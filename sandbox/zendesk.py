"""Zendesk Support (tickets, users) and Help Center (articles, search), answering like Zendesk's REST API v2
so zenpy and the assistant's adapter work against it unchanged.

Tickets need HTTP Basic `{email}/token:{api token}`; Help Center reads are anonymous, as on Zendesk.
`POST /api/v2/tickets` honours `Idempotency-Key` like Zendesk (`x-idempotency-lookup: miss|hit`).
"""

import hashlib
import hmac
import html
import json
import math
import os
from datetime import datetime
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, render_template, request
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, String, Text, func, select

from common import clock
from sandbox import db, faults
from sandbox.help_center import LOCALES, HelpCenter

ZENDESK_EMAIL = os.environ.get("SANDBOX_ZENDESK_EMAIL", "bot@operator.example")
ZENDESK_TOKEN = os.environ.get("SANDBOX_ZENDESK_TOKEN", "sandbox-zendesk-token")
HELP_CENTER_DEFAULT_LOCALE = os.environ.get("SANDBOX_HELP_CENTER_DEFAULT_LOCALE", "en-us")

PRIORITIES = ("urgent", "high", "normal", "low")
TYPES = ("problem", "incident", "question", "task")
STATUSES = ("new", "open", "pending", "hold", "solved", "closed")

blueprint = Blueprint("zendesk", __name__, template_folder="templates")
help_center = HelpCenter()


# --- state -------------------------------------------------------------------------------------------


class ZendeskUser(db.Base):
    __tablename__ = "zendesk_users"
    id = Column(Integer, primary_key=True)
    name = Column(String(200), nullable=False)
    email = Column(String(200), index=True)
    phone = Column(String(40), index=True)
    role = Column(String(20), nullable=False, default="end-user")
    locale_id = Column(Integer)
    created_at = Column(DateTime, nullable=False)


class Ticket(db.Base):
    __tablename__ = "zendesk_tickets"
    id = Column(Integer, primary_key=True)
    external_id = Column(String(255), index=True)
    subject = Column(String(255))
    description = Column(Text, nullable=False)
    status = Column(String(20), nullable=False)
    priority = Column(String(20))
    type = Column(String(20))
    tags = Column(Text, nullable=False, default="[]")  # JSON list
    custom_fields = Column(Text, nullable=False, default="[]")  # JSON list of {id, value}
    requester_id = Column(Integer, ForeignKey("zendesk_users.id"), nullable=False)
    submitter_id = Column(Integer, ForeignKey("zendesk_users.id"), nullable=False)
    assignee_id = Column(Integer)
    group_id = Column(Integer)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)


class TicketComment(db.Base):
    __tablename__ = "zendesk_comments"
    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("zendesk_tickets.id"), nullable=False, index=True)
    author_id = Column(Integer, ForeignKey("zendesk_users.id"), nullable=False)
    body = Column(Text, nullable=False)
    html_body = Column(Text, nullable=False)
    public = Column(Boolean, nullable=False)
    created_at = Column(DateTime, nullable=False)


class IdempotentTicketRequest(db.Base):
    """Idempotency-Key → the first answer, so a retried create never makes a second ticket."""

    __tablename__ = "zendesk_idempotency_keys"
    key = Column(String(255), primary_key=True)
    request_hash = Column(String(64), nullable=False)
    status = Column(Integer, nullable=False)
    body = Column(Text, nullable=False)


# --- helpers -----------------------------------------------------------------------------------------


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds") + "Z"


def error(status: int, name: str, description: str = None, details: dict = None, headers: dict = None):
    body = {"error": name}
    if description:
        body["description"] = description
    if details:
        body["details"] = details
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def fault_response(fault):
    """What Zendesk answers when it is rate limiting or down; a 429 always says when to come back."""
    known = {
        401: ("Couldn't authenticate you", None),
        403: (
            "Forbidden",
            "You do not have access to this page. Please contact the account owner of this help desk for further help.",
        ),
        404: ("RecordNotFound", "Not found"),
        409: ("Conflict", "The resource was modified by another request. Retry the request."),
        422: ("RecordInvalid", "Record validation errors"),
        429: ("APIRateLimitExceeded", "Number of allowed API requests per minute exceeded"),
        500: ("InternalServerError", "Something went wrong on our side. Please try again later."),
        503: ("ServiceUnavailable", "Zendesk is temporarily unavailable. Please try again later."),
    }
    name, description = known.get(fault.status, ("Error", f"HTTP {fault.status}"))
    headers = {}
    if fault.retry_after is not None or fault.status == 429:
        headers["Retry-After"] = str(1 if fault.retry_after is None else fault.retry_after)
    return error(fault.status, name, description, headers=headers)


def authenticated() -> bool:
    auth = request.authorization
    return bool(
        auth
        and auth.type == "basic"
        and auth.username == f"{ZENDESK_EMAIL}/token"
        and hmac.compare_digest(auth.password or "", ZENDESK_TOKEN)
    )


def unauthorized():
    return error(401, "Couldn't authenticate you", headers={"WWW-Authenticate": 'Basic realm="Web Password"'})


def base_url() -> str:
    return request.host_url  # ends with "/"


def bot_user(session) -> ZendeskUser:
    """The agent behind the API token (it submits the tickets)."""
    user = session.scalars(select(ZendeskUser).where(ZendeskUser.email == ZENDESK_EMAIL)).first()
    if not user:
        user = ZendeskUser(name="Assistant", email=ZENDESK_EMAIL, role="agent", created_at=clock.utc_naive())
        session.add(user)
        session.flush()
    return user


def user_json(user: ZendeskUser) -> dict:
    return {
        "id": user.id,
        "url": f"{base_url()}api/v2/users/{user.id}.json",
        "name": user.name,
        "email": user.email,
        "phone": user.phone,
        "role": user.role,
        "locale_id": user.locale_id,
        "active": True,
        "verified": False,
        "created_at": iso(user.created_at),
        "updated_at": iso(user.created_at),
    }


def ticket_json(ticket: Ticket, first_comment: TicketComment = None) -> dict:
    return {
        "url": f"{base_url()}api/v2/tickets/{ticket.id}.json",
        "id": ticket.id,
        "external_id": ticket.external_id,
        "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}},
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
        "type": ticket.type,
        "subject": ticket.subject,
        "raw_subject": ticket.subject,
        "description": ticket.description,
        "priority": ticket.priority,
        "status": ticket.status,
        "recipient": None,
        "requester_id": ticket.requester_id,
        "submitter_id": ticket.submitter_id,
        "assignee_id": ticket.assignee_id,
        "organization_id": None,
        "group_id": ticket.group_id,
        "collaborator_ids": [],
        "follower_ids": [],
        "email_cc_ids": [],
        "problem_id": None,
        "has_incidents": False,
        "is_public": bool(first_comment.public) if first_comment else True,
        "due_at": None,
        "tags": json.loads(ticket.tags),
        "custom_fields": json.loads(ticket.custom_fields),
        "fields": json.loads(ticket.custom_fields),
        "satisfaction_rating": None,
        "sharing_agreement_ids": [],
        "followup_ids": [],
        "brand_id": 1,
        "allow_channelback": False,
        "allow_attachments": True,
        "from_messaging_channel": False,
    }


def comment_json(comment: TicketComment) -> dict:
    return {
        "id": comment.id,
        "type": "Comment",
        "author_id": comment.author_id,
        "body": comment.body,
        "html_body": comment.html_body,
        "plain_body": comment.body,
        "public": comment.public,
        "attachments": [],
        "audit_id": comment.id,
        "via": {"channel": "api"},
        "created_at": iso(comment.created_at),
    }


def audit_json(ticket: Ticket, comment: TicketComment) -> dict:
    """The audit of the creation: the comment plus one Create event per field set."""
    created = [
        ("subject", ticket.subject),
        ("status", ticket.status),
        ("priority", ticket.priority),
        ("type", ticket.type),
        ("requester_id", ticket.requester_id),
        ("group_id", ticket.group_id),
        ("tags", json.loads(ticket.tags)),
    ]
    events = [{k: v for k, v in comment_json(comment).items() if k not in ("created_at", "via")}]
    events += [
        {"id": comment.id * 100 + n, "type": "Create", "field_name": name, "value": value}
        for n, (name, value) in enumerate(created, start=1)
        if value not in (None, [])
    ]
    return {
        "id": comment.id,
        "ticket_id": ticket.id,
        "created_at": iso(comment.created_at),
        "author_id": comment.author_id,
        "metadata": {
            "system": {"client": request.headers.get("User-Agent", ""), "ip_address": request.remote_addr},
            "custom": {},
        },
        "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}},
        "events": events,
    }


def first_comment(session, ticket_id: int):
    return session.scalars(
        select(TicketComment).where(TicketComment.ticket_id == ticket_id).order_by(TicketComment.id)
    ).first()


def page_args(default_per_page=100):
    try:
        page = max(1, int(request.args.get("page", 1)))
        per_page = min(100, max(1, int(request.args.get("per_page", default_per_page))))
    except ValueError:
        return None, None
    return page, per_page


def page_url(page: int) -> str:
    return base_url().rstrip("/") + request.path + "?" + urlencode({**request.args.to_dict(), "page": page})


# --- tickets ------------------------------------------------------------------------------------------


def _requester(session, spec: dict):
    """Finds the requester by email or phone, or creates them as Zendesk does for an unknown requester."""
    email, phone = (spec.get("email") or "").strip().lower() or None, (spec.get("phone") or "").strip() or None
    user = None
    if email:
        user = session.scalars(select(ZendeskUser).where(func.lower(ZendeskUser.email) == email)).first()
    if not user and phone:
        user = session.scalars(select(ZendeskUser).where(ZendeskUser.phone == phone)).first()
    if user:
        return user, None
    name = (spec.get("name") or "").strip() or email or phone
    if not name:
        return None, {
            "requester": [
                {"description": "Requester: Name is too short (minimum is 1 character)", "error": "InvalidValue"}
            ]
        }
    user = ZendeskUser(
        name=name, email=email, phone=phone, locale_id=spec.get("locale_id"), created_at=clock.utc_naive()
    )
    session.add(user)
    session.flush()
    return user, None


def _validate(ticket: dict) -> dict:
    details = {}
    comment = ticket.get("comment") or {}
    if not (comment.get("body") or comment.get("html_body") or ticket.get("description")):
        details["base"] = [{"description": "Description: cannot be blank", "error": "BlankValue"}]
    for name, allowed in (("priority", PRIORITIES), ("type", TYPES), ("status", STATUSES)):
        if ticket.get(name) is not None and ticket[name] not in allowed:
            details[name] = [{"description": f"{name.title()}: is not valid", "error": "InvalidValue"}]
    if ticket.get("tags") is not None and not isinstance(ticket["tags"], list):
        details["tags"] = [{"description": "Tags: must be a list", "error": "InvalidValue"}]
    return details


def _create_ticket(session, spec: dict):
    """Returns (status, body)."""
    details = _validate(spec)
    agent = bot_user(session)
    requester = agent
    if spec.get("requester_id") is not None:
        requester = session.get(ZendeskUser, int(spec["requester_id"]))
        if requester is None:
            details["requester"] = [{"description": "Requester: is invalid", "error": "InvalidValue"}]
    elif spec.get("requester"):
        requester, problem = _requester(session, spec["requester"])
        details.update(problem or {})
    if details:
        return 422, {"error": "RecordInvalid", "description": "Record validation errors", "details": details}

    comment_spec = spec.get("comment") or {"body": spec.get("description")}
    body = comment_spec.get("body") or html.unescape(comment_spec.get("html_body", ""))
    tags = list(dict.fromkeys(str(tag).strip().lower().replace(" ", "_") for tag in spec.get("tags") or []))
    created = clock.utc_naive()
    ticket = Ticket(
        external_id=spec.get("external_id"),
        subject=spec.get("subject"),
        description=body,
        status=spec.get("status") or ("open" if spec.get("assignee_id") else "new"),
        priority=spec.get("priority"),
        type=spec.get("type"),
        tags=json.dumps(tags),
        custom_fields=json.dumps(spec.get("custom_fields") or spec.get("fields") or []),
        requester_id=requester.id,
        submitter_id=agent.id,
        assignee_id=spec.get("assignee_id"),
        group_id=spec.get("group_id"),
        created_at=created,
        updated_at=created,
    )
    session.add(ticket)
    session.flush()
    comment = TicketComment(
        ticket_id=ticket.id,
        author_id=agent.id,
        body=body,
        public=bool(comment_spec.get("public", True)),
        html_body=comment_spec.get("html_body")
        or '<div class="zd-comment"><p>' + html.escape(body).replace("\n", "<br>") + "</p></div>",
        created_at=created,
    )
    session.add(comment)
    session.flush()
    return 201, {"ticket": ticket_json(ticket, comment), "audit": audit_json(ticket, comment)}


@blueprint.post("/api/v2/tickets.json")
@blueprint.post("/api/v2/tickets")
def create_ticket():
    faults.raise_if_faulty("zendesk")
    if not authenticated():
        return unauthorized()
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("ticket"), dict):
        return error(400, "InvalidParameter", 'The request body must be a JSON object with a "ticket" object')

    key = request.headers.get("Idempotency-Key")
    request_hash = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    with db.transaction() as session:
        if key:
            earlier = session.get(IdempotentTicketRequest, key)
            if earlier and earlier.request_hash != request_hash:
                return error(
                    400,
                    "IdempotentRequestError",
                    "The request payload does not match the original request sent with this Idempotency-Key",
                )
            if earlier:
                return Response(
                    earlier.body,
                    status=earlier.status,
                    mimetype="application/json",
                    headers={"x-idempotency-lookup": "hit"},
                )
        status, body = _create_ticket(session, payload["ticket"])
        if status != 201:
            session.rollback()
            return jsonify(body), status
        if key:
            session.add(
                IdempotentTicketRequest(
                    key=key, request_hash=request_hash, status=status, body=json.dumps(body, ensure_ascii=False)
                )
            )
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = body["ticket"]["url"]
    if key:
        response.headers["x-idempotency-lookup"] = "miss"
    return response


@blueprint.get("/api/v2/tickets/<int:ticket_id>.json")
@blueprint.get("/api/v2/tickets/<int:ticket_id>")
def get_ticket(ticket_id):
    faults.raise_if_faulty("zendesk")
    if not authenticated():
        return unauthorized()
    with db.transaction() as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            return error(404, "RecordNotFound", "Not found")
        return jsonify(ticket=ticket_json(ticket, first_comment(session, ticket.id)))


@blueprint.get("/api/v2/tickets.json")
@blueprint.get("/api/v2/tickets")
def list_tickets():
    faults.raise_if_faulty("zendesk")
    if not authenticated():
        return unauthorized()
    page, per_page = page_args()
    if page is None:
        return error(400, "InvalidPaginationParameter", "page and per_page must be integers")
    query = select(Ticket).order_by(Ticket.id)
    if request.args.get("external_id"):
        query = query.where(Ticket.external_id == request.args["external_id"])
    with db.transaction() as session:
        tickets = list(session.scalars(query))
        shown = tickets[(page - 1) * per_page : page * per_page]
        return jsonify(
            tickets=[ticket_json(t, first_comment(session, t.id)) for t in shown],
            next_page=page_url(page + 1) if page * per_page < len(tickets) else None,
            previous_page=page_url(page - 1) if page > 1 else None,
            count=len(tickets),
        )


@blueprint.get("/api/v2/tickets/<int:ticket_id>/comments.json")
@blueprint.get("/api/v2/tickets/<int:ticket_id>/comments")
def list_comments(ticket_id):
    faults.raise_if_faulty("zendesk")
    if not authenticated():
        return unauthorized()
    with db.transaction() as session:
        if session.get(Ticket, ticket_id) is None:
            return error(404, "RecordNotFound", "Not found")
        comments = session.scalars(
            select(TicketComment).where(TicketComment.ticket_id == ticket_id).order_by(TicketComment.id)
        ).all()
        return jsonify(
            comments=[comment_json(c) for c in comments], next_page=None, previous_page=None, count=len(comments)
        )


@blueprint.get("/api/v2/users/<int:user_id>.json")
@blueprint.get("/api/v2/users/<int:user_id>")
def get_user(user_id):
    faults.raise_if_faulty("zendesk")
    if not authenticated():
        return unauthorized()
    with db.transaction() as session:
        user = session.get(ZendeskUser, user_id)
        if user is None:
            return error(404, "RecordNotFound", "Not found")
        return jsonify(user=user_json(user))


@blueprint.get("/_sandbox/zendesk/tickets")
def all_tickets_for_tests():
    """Every ticket, oldest first, with its requester and comments."""
    with db.transaction() as session:
        out = []
        for ticket in session.scalars(select(Ticket).order_by(Ticket.id)):
            comments = session.scalars(
                select(TicketComment).where(TicketComment.ticket_id == ticket.id).order_by(TicketComment.id)
            ).all()
            out.append(
                {
                    **ticket_json(ticket, comments[0] if comments else None),
                    "requester": user_json(session.get(ZendeskUser, ticket.requester_id)),
                    "comments": [comment_json(c) for c in comments],
                }
            )
        return jsonify(out)


# --- Help Center --------------------------------------------------------------------------------------


def article_json(article) -> dict:
    return {
        "id": article.id,
        "url": f"{base_url()}api/v2/help_center/{article.locale}/articles/{article.id}.json",
        "html_url": f"{base_url()}hc/{article.locale}/articles/{article.id}-{article.slug}",
        "author_id": 1,
        "comments_disabled": True,
        "draft": False,
        "promoted": False,
        "position": article.position,
        "vote_sum": 0,
        "vote_count": 0,
        "section_id": article.section_id,
        "created_at": article.created_at,
        "updated_at": article.updated_at,
        "edited_at": article.updated_at,
        "name": article.title,
        "title": article.title,
        "source_locale": "en-us",
        "locale": article.locale,
        "outdated": False,
        "outdated_locales": [],
        "permission_group_id": 1,
        "user_segment_id": None,
        "label_names": article.label_names,
        "content_tag_ids": [],
        "body": article.body,
    }


def help_center_auth_problem():
    """Help Center reads are anonymous; credentials, when sent, must still be right."""
    if request.authorization and not authenticated():
        return unauthorized()
    return None


@blueprint.get("/api/v2/help_center/articles/search.json")
@blueprint.get("/api/v2/help_center/articles/search")
def search_articles():
    faults.raise_if_faulty("zendesk")
    problem = help_center_auth_problem()
    if problem:
        return problem
    query = request.args.get("query", "")
    labels = [label for label in request.args.get("label_names", "").split(",") if label]
    section = request.args.get("section")
    if not (query.strip() or labels or section or request.args.get("category")):
        return error(400, "InvalidSearchParameters", "Provide at least one of query, category, section or label_names")
    page, per_page = page_args(default_per_page=25)
    if page is None or (section and not section.isdigit()):
        return error(400, "InvalidParameter", "page, per_page and section must be integers")
    locale = request.args.get("locale", "*").lower()
    locales = LOCALES if locale == "*" else [locale] if locale in LOCALES else []  # unknown locale: no results

    hits = help_center.search(query, locales, section_id=int(section) if section else None, label_names=labels)
    hits = hits[:1000]  # Zendesk stops at 1000 results
    shown = hits[(page - 1) * per_page : page * per_page]
    results = [
        {**article_json(article), "snippet": help_center.snippet(article, matched), "result_type": "article"}
        for _, article, matched in shown
    ]
    return jsonify(
        results=results,
        count=len(hits),
        page=page,
        per_page=per_page,
        page_count=max(1, math.ceil(len(hits) / per_page)),
        next_page=page_url(page + 1) if page * per_page < len(hits) else None,
        previous_page=page_url(page - 1) if page > 1 else None,
    )


@blueprint.get("/api/v2/help_center/<locale>/articles/<int:article_id>.json")
@blueprint.get("/api/v2/help_center/<locale>/articles/<int:article_id>")
def get_article(locale, article_id):
    faults.raise_if_faulty("zendesk")
    problem = help_center_auth_problem()
    if problem:
        return problem
    article = help_center.get(locale.lower(), article_id)
    if article is None:
        return error(404, "RecordNotFound", "Not found")
    return jsonify(article=article_json(article))


@blueprint.get("/api/v2/help_center/articles/<int:article_id>.json")
@blueprint.get("/api/v2/help_center/articles/<int:article_id>")
def get_article_in_default_locale(article_id):
    return get_article(HELP_CENTER_DEFAULT_LOCALE, article_id)


@blueprint.get("/api/v2/help_center/<locale>/articles.json")
@blueprint.get("/api/v2/help_center/<locale>/articles")
def list_articles(locale):
    faults.raise_if_faulty("zendesk")
    page, per_page = page_args(default_per_page=30)
    if page is None:
        return error(400, "InvalidParameter", "page and per_page must be integers")
    articles = help_center.articles.get(locale.lower(), [])
    shown = articles[(page - 1) * per_page : page * per_page]
    return jsonify(
        articles=[article_json(a) for a in shown],
        count=len(articles),
        page=page,
        per_page=per_page,
        page_count=max(1, math.ceil(len(articles) / per_page)),
        next_page=page_url(page + 1) if page * per_page < len(articles) else None,
        previous_page=page_url(page - 1) if page > 1 else None,
        sort_by="position",
        sort_order="asc",
    )


@blueprint.get("/hc/<locale>/articles/<article_ref>")
def article_page(locale, article_ref):
    """The page `html_url` points to: `/hc/fr/articles/360010001` or `/hc/fr/articles/360010001-Slug`."""
    faults.raise_if_faulty("zendesk")
    digits = article_ref.split("-", 1)[0]
    article = help_center.get(locale.lower(), int(digits)) if digits.isdigit() else None
    if article is None:
        return Response(
            "<!doctype html><title>404</title><h1>404</h1><p>Page not found</p>", status=404, mimetype="text/html"
        )
    others = [help_center.get(other, article.id) for other in LOCALES if other != article.locale]
    related = [
        a for a in help_center.articles[article.locale] if a.section_id == article.section_id and a.id != article.id
    ]
    return render_template("help_article.html", article=article, translations=[a for a in others if a], related=related)
