"""Zendesk Support and Help Center through zenpy (tickets, article search)."""

import itertools
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

import requests
from zenpy import Zenpy
from zenpy.lib.api_objects import Comment, Ticket, User
from zenpy.lib.exception import APIException, RatelimitBudgetExceeded, ZenpyException

from clients.errors import BackendError, BackendUnavailable
from common import config

# Zendesk's own locale codes for our languages
LOCALES = {"fr": "fr", "es": "es", "en": "en-us"}


@dataclass(frozen=True)
class Article:
    id: int
    title: str
    snippet: str
    url: str
    body: str = ""  # HTML
    labels: Sequence[str] = field(default_factory=tuple)


def sent_to(session: requests.Session, base_url: str, zenpy_base: str) -> requests.Session:
    """`session`, sending what zenpy addresses to `zenpy_base` (https://<subdomain>.zendesk.com) to `base_url`
    instead (the sandbox, a proxy): zenpy itself only knows Zendesk's own hosts."""
    base_url = base_url.rstrip("/")
    if not base_url or base_url == zenpy_base:
        return session
    send = session.request

    def request(method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        if not url.startswith(zenpy_base):
            return send(method, url, *args, **kwargs)
        response = send(method, base_url + url[len(zenpy_base) :], *args, **kwargs)
        response.url = response.request.url = url  # zenpy reads its answers by the URL it asked
        return response

    session.request = request  # type: ignore[method-assign]
    return session


class ZendeskClient:
    # How a fresh HTTP session is made (tests swap it to lose an answer on the way back).
    new_session: Callable[[], requests.Session] = staticmethod(requests.Session)

    def __init__(self, url: Optional[str] = None):
        self.url = config.ZENDESK_URL if url is None else url
        self._zenpy = self._connect()

    def _connect(self, headers: Optional[Dict[str, str]] = None) -> Zenpy:
        session = sent_to(self.new_session(), self.url, f"https://{config.ZENDESK_SUBDOMAIN}.zendesk.com")
        session.headers.update(headers or {})
        # Fail fast on rate limits: the caller keeps the ticket in its outbox and retries later.
        return Zenpy(
            subdomain=config.ZENDESK_SUBDOMAIN,
            email=config.ZENDESK_EMAIL,
            token=config.ZENDESK_TOKEN,
            timeout=config.HTTP_READ_TIMEOUT,
            ratelimit_budget=1,
            session=session,
        )

    def create_ticket(
        self,
        *,
        subject: str,
        body: str,
        external_id: str,
        requester_name: str = None,
        requester_phone: str = None,
        tags: Sequence[str] = (),
        priority: str = "normal",
    ) -> int:
        """Creates the ticket with `body` as a private note; answers its number."""
        requester = (
            {"name": requester_name or requester_phone or "Customer", "phone": requester_phone}
            if (requester_name or requester_phone)
            else None
        )
        ticket = {
            "subject": subject,
            "comment": {"body": body, "public": False},
            "external_id": external_id,
            "tags": list(tags),
            "priority": priority,
            "requester": requester,
        }
        return self.submit_ticket({k: v for k, v in ticket.items() if v is not None})

    def submit_ticket(self, ticket: Dict[str, Any], idempotency_key: Optional[str] = None) -> int:
        """Creates a ticket from its Zendesk fields (subject, comment {body, public}, requester {name, phone,
        email}, external_id, tags, priority, type, group_id); answers its number. The same dict always makes
        the same request body, and Zendesk answers a repeated `Idempotency-Key` with the first ticket."""
        fields = dict(ticket)
        if fields.get("comment") is not None:
            fields["comment"] = Comment(**fields["comment"])
        if fields.get("requester") is not None:
            fields["requester"] = User(**fields["requester"])
        zenpy = self._connect({"Idempotency-Key": idempotency_key}) if idempotency_key else self._zenpy
        return self._guard(lambda: zenpy.tickets.create(Ticket(**fields)).ticket.id)

    def ticket_by_external_id(self, external_id: str) -> Optional[int]:
        """The ticket already created for this reference, if any (so a retry never creates a second one)."""
        found = self._guard(lambda: list(self._zenpy.tickets(external_id=external_id)))
        return found[0].id if found else None

    def search_articles(self, query: str, language: str, limit: int = 3) -> List[Article]:
        locale = LOCALES.get(language, "en-us")
        # one page of `limit` results: zenpy's results fetch every further page when listed whole
        search = self._zenpy.help_center.articles.search
        results = self._guard(lambda: list(itertools.islice(search(query=query, locale=locale, per_page=limit), limit)))
        return [
            Article(
                id=a.id,
                title=a.title,
                snippet=getattr(a, "snippet", "") or "",
                url=a.html_url,
                body=getattr(a, "body", "") or "",
                labels=tuple(getattr(a, "label_names", None) or ()),
            )
            for a in results
        ]

    @staticmethod
    def _guard(call):
        try:
            return call()
        except (RatelimitBudgetExceeded, requests.RequestException) as error:
            raise BackendUnavailable(f"zendesk: {type(error).__name__}") from None
        except APIException as error:
            status = getattr(getattr(error, "response", None), "status_code", 0) or 0
            if status >= 500 or status == 429 or status == 0:
                raise BackendUnavailable(f"zendesk answered {status}") from None
            raise BackendError("ZENDESK_REFUSED", str(error)[:200], status) from None
        except ZenpyException as error:
            raise BackendUnavailable(f"zendesk: {error}") from None
