"""Zendesk Support and Help Center through zenpy (tickets, article search)."""
import os
from dataclasses import dataclass
from typing import List, Optional, Sequence
from urllib.parse import urlparse

from zenpy import Zenpy
from zenpy.lib.api_objects import Comment, Ticket, User
from zenpy.lib.exception import APIException, RatelimitBudgetExceeded, ZenpyException

import requests

from actions import config
from actions.clients.errors import BackendError, BackendUnavailable

# Zendesk's own locale codes for our languages
LOCALES = {"fr": "fr", "es": "es", "en": "en-us"}


@dataclass(frozen=True)
class Article:
    id: int
    title: str
    snippet: str
    url: str


def _point_zenpy_at(url: str) -> None:
    """zenpy builds https://<subdomain>.zendesk.com; these variables (zenpy's own) send it elsewhere."""
    if url:
        parsed = urlparse(url)
        os.environ["ZENPY_FORCE_NETLOC"] = parsed.netloc
        os.environ["ZENPY_FORCE_SCHEME"] = parsed.scheme


class ZendeskClient:
    def __init__(self, url: Optional[str] = None):
        _point_zenpy_at(config.ZENDESK_URL if url is None else url)
        # Fail fast on rate limits: the caller keeps the ticket in its outbox and retries later.
        self._zenpy = Zenpy(subdomain=config.ZENDESK_SUBDOMAIN, email=config.ZENDESK_EMAIL, token=config.ZENDESK_TOKEN,
                            timeout=config.HTTP_READ_TIMEOUT, ratelimit_budget=1)

    def create_ticket(self, *, subject: str, body: str, external_id: str, requester_name: str = None,
                      requester_phone: str = None, tags: Sequence[str] = (), priority: str = "normal") -> int:
        """Creates the ticket with `body` as a private note; answers its number."""
        requester = User(name=requester_name or requester_phone or "Customer", phone=requester_phone) if (
            requester_name or requester_phone) else None
        ticket = Ticket(subject=subject, comment=Comment(body=body, public=False), external_id=external_id,
                        tags=list(tags), priority=priority, requester=requester)
        return self._guard(lambda: self._zenpy.tickets.create(ticket).ticket.id)

    def ticket_by_external_id(self, external_id: str) -> Optional[int]:
        """The ticket already created for this reference, if any (so a retry never creates a second one)."""
        found = self._guard(lambda: list(self._zenpy.tickets(external_id=external_id)))
        return found[0].id if found else None

    def search_articles(self, query: str, language: str, limit: int = 3) -> List[Article]:
        locale = LOCALES.get(language, "en-us")
        results = self._guard(lambda: list(self._zenpy.help_center.articles.search(query=query, locale=locale))[:limit])
        return [Article(id=a.id, title=a.title, snippet=getattr(a, "snippet", "") or "", url=a.html_url) for a in results]

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
